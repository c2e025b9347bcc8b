"""docker-compose.yml, Dockerfile and .dockerignore, read as files (no Docker engine needed)."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from xsell.config.safety import api_unsafe_reasons
from xsell.config.settings import FLAT, load_settings
from xsell.config.strength import new_secret

ROOT = Path(__file__).resolve().parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
INTERPOLATION = re.compile(r"\$\{(?P<var>[A-Z_][A-Z0-9_]*)(?::?[?-][^}]*)?\}")


def env(service: str) -> dict[str, str]:
    value = SERVICES[service].get("environment", {})
    assert isinstance(value, dict), f"{service}: environment as a mapping"
    return {k: str(v) for k, v in value.items()}


def listeners(text: str) -> dict[str, tuple[str, int]]:
    """'NAME://host:port,...' -> {NAME: (host, port)}."""
    out = {}
    for part in text.split(","):
        name, _, address = part.partition("://")
        host, _, port = address.rpartition(":")
        out[name] = (host, int(port))
    return out


def depends(service: str) -> dict[str, str]:
    return {name: spec["condition"] for name, spec in SERVICES[service]["depends_on"].items()}


def test_services() -> None:
    assert set(SERVICES) == {"kafka", "redis", "topics", "worker", "api", "prometheus"}


def test_the_api_serves_with_keys_after_the_topics_exist() -> None:
    api = SERVICES["api"]
    assert api["command"] == ["api"] and api["build"] == "."
    assert "8080:8080" in api["ports"]
    assert INTERPOLATION.fullmatch(env("api")["XSELL_API_KEYS"]), "keys from the environment"
    assert depends("api")["topics"] == "service_completed_successfully"
    assert "/readyz" in " ".join(api["healthcheck"]["test"])


def test_an_unset_secret_is_an_error_not_an_empty_secret() -> None:
    """`${VAR:-}` would hand an empty token secret to the API (anyone could sign a token);
    `${VAR:?message}` makes Compose refuse to start instead."""
    for service, var in (
        ("api", "XSELL_API_KEYS"),
        ("api", "XSELL_API_USER_TOKEN_SECRET"),
        ("api", "XSELL_REDIS_PASSWORD"),
        ("worker", "XSELL_REDIS_PASSWORD"),
    ):
        assert re.fullmatch(rf"\$\{{{var}:\?.+\}}", env(service)[var]), (service, var)


def test_prometheus_scrapes_every_worker_and_the_api() -> None:
    prometheus = SERVICES["prometheus"]
    assert re.fullmatch(r"prom/prometheus:v\d+\.\d+\.\d+", prometheus["image"])
    config = yaml.safe_load((ROOT / "config" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    worker_port = int(env("worker")["XSELL_METRICS_PORT"])
    assert jobs["xsell-worker"]["dns_sd_configs"][0] == {
        "names": ["worker"],
        "type": "A",
        "port": worker_port,
    }
    assert env("worker")["XSELL_METRICS_HOST"] == "0.0.0.0"
    assert jobs["xsell-api"]["static_configs"][0]["targets"] == [
        f"api:{env('api')['XSELL_API_PORT']}"
    ]
    secret = jobs["xsell-api"]["authorization"]["credentials_file"].rsplit("/", 1)[1]
    assert secret in prometheus["secrets"] and secret in COMPOSE["secrets"]


def test_kafka_is_a_pinned_official_image() -> None:
    image = SERVICES["kafka"]["image"]
    assert re.fullmatch(r"apache/kafka:\d+\.\d+\.\d+", image), image


def test_kafka_kraft_single_node() -> None:
    kafka = env("kafka")
    assert kafka["KAFKA_PROCESS_ROLES"] == "broker,controller"
    node = kafka["KAFKA_NODE_ID"]
    assert kafka["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{node}@kafka:9093"
    assert kafka["KAFKA_CONTROLLER_LISTENER_NAMES"] == "CONTROLLER"
    assert "ZOOKEEPER" not in " ".join(kafka).upper()
    cluster_id = kafka["CLUSTER_ID"]  # a UUID as base64url without padding, 22 characters
    assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16 and len(cluster_id) == 22


def test_kafka_listeners() -> None:
    kafka = env("kafka")
    bound = listeners(kafka["KAFKA_LISTENERS"])
    advertised = listeners(kafka["KAFKA_ADVERTISED_LISTENERS"])
    protocols = dict(p.split(":") for p in kafka["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    assert bound["PLAINTEXT"][1] == 9092 and bound["CONTROLLER"][1] == 9093
    assert advertised["PLAINTEXT"] == ("kafka", 9092)  # inside the compose network
    assert advertised["EXTERNAL"] == ("localhost", 29092)  # from the host
    assert bound["EXTERNAL"][1] == 29092
    assert "29092:29092" in SERVICES["kafka"]["ports"]
    assert "CONTROLLER" not in advertised
    assert set(bound) == set(protocols) and set(advertised) <= set(bound)
    assert kafka["KAFKA_INTER_BROKER_LISTENER_NAME"] in bound


def test_kafka_single_replica_and_no_auto_created_topics() -> None:
    kafka = env("kafka")
    for key in (
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR",
    ):
        assert kafka[key] == "1", key
    assert kafka["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"


def test_kafka_healthcheck_and_data_volume() -> None:
    kafka = SERVICES["kafka"]
    test = " ".join(kafka["healthcheck"]["test"])
    assert "/opt/kafka/bin/kafka-broker-api-versions.sh" in test
    assert "--bootstrap-server localhost:9092" in test
    assert f"kafka-data:{env('kafka')['KAFKA_LOG_DIRS']}" in kafka["volumes"]


def test_redis_append_only_file() -> None:
    redis = SERVICES["redis"]
    assert redis["image"] == "redis:7.2"
    command = redis["command"]
    assert command[0] == "redis-server"
    options = dict(zip(command[1::2], command[2::2], strict=True))
    assert options["--appendonly"] == "yes"
    assert options["--appendfsync"] == "everysec"
    assert "redis-data:/data" in redis["volumes"]
    assert redis["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]


def test_redis_password_is_shared_with_the_workers() -> None:
    options = dict(
        zip(SERVICES["redis"]["command"][1::2], SERVICES["redis"]["command"][2::2], strict=True)
    )
    password = options["--requirepass"]
    assert INTERPOLATION.fullmatch(password), "taken from the environment, not committed"
    assert env("redis")["REDISCLI_AUTH"] == password  # lets the healthcheck authenticate
    assert env("worker")["XSELL_REDIS_PASSWORD"] == password


def test_named_volumes_are_declared() -> None:
    used = {
        v.split(":")[0]
        for s in SERVICES.values()
        for v in s.get("volumes", [])
        if not v.startswith((".", "/"))
    }
    assert used == set(COMPOSE["volumes"])


def test_topics_is_a_one_shot_after_kafka() -> None:
    topics = SERVICES["topics"]
    assert topics["command"] == ["topics", "create"]
    assert depends("topics") == {"kafka": "service_healthy"}
    assert topics["restart"] == "no"


def test_two_workers() -> None:
    worker = SERVICES["worker"]
    assert worker["command"] == ["worker"]
    assert worker["deploy"]["replicas"] == 2
    assert "container_name" not in worker and "ports" not in worker  # both clash with replicas
    assert depends("worker")["topics"] == "service_completed_successfully"
    assert depends("worker")["redis"] == "service_healthy"
    assert worker["restart"] == "unless-stopped"
    assert env("worker")["XSELL_KAFKA_BROKERS"] == "kafka:9092"
    assert env("worker")["XSELL_REDIS_URL"] == "redis://redis:6379/0"


def test_xsell_images_are_built_here() -> None:
    for name in ("topics", "worker", "api"):
        assert SERVICES[name]["build"] == "."
    assert SERVICES["topics"]["image"] == SERVICES["worker"]["image"]


@pytest.mark.parametrize("service", ["topics", "worker", "api"])
def test_xsell_environment_is_valid_settings(service: str) -> None:
    values = env(service)
    fields = {key.removeprefix("XSELL_").lower(): value for key, value in values.items()}
    assert set(fields) <= set(FLAT), "every XSELL_* variable is a setting"
    fields = {k: (new_secret() if INTERPOLATION.fullmatch(v) else v) for k, v in fields.items()}
    settings = load_settings(**fields)
    if service == "worker":
        assert settings.unsafe_reasons() == []  # else `xsell worker` refuses to start
        assert settings.kafka.session_timeout == 10.0
    if service == "api":
        assert settings.unsafe_reasons() + api_unsafe_reasons(settings) == []


def test_topics_and_workers_agree_on_topics() -> None:
    for key in ("XSELL_KAFKA_BROKERS", "XSELL_TOPIC_PREFIX", "XSELL_TOPIC_PARTITIONS"):
        assert env("topics").get(key) == env("worker").get(key), key


def test_dockerfile() -> None:
    text = (ROOT / "Dockerfile").read_text()
    froms = re.findall(r"^FROM (\S+)", text, re.MULTILINE)
    assert froms and all(image == "python:3.11-slim" for image in froms)
    assert 'ENTRYPOINT ["xsell"]' in text
    users = re.findall(r"^USER (\S+)", text, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert re.search(r"^RUN pip (install|wheel) .*\.", text, re.MULTILINE)


def test_dockerignore_keeps_what_the_build_needs() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert ".git" in patterns
    needed = {"pyproject.toml", "README.md", "xsell", "models", "streams", "config"}
    assert not needed & set(patterns)


def test_the_comment_names_every_topic_and_their_number() -> None:
    from xsell.config.topics import TOPICS

    text = (ROOT / "docker-compose.yml").read_text()
    comment = text[text.index("# One-shot: creates") : text.index("  topics:\n")]
    words = {1: "one", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine", 10: "ten"}
    assert f"the {words[len(TOPICS)]} topics" in comment, comment  # it said five
    assert all(t.name in comment for t in TOPICS), comment


def test_the_readme_says_which_compose_release_it_needs() -> None:
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert "Docker Compose v2.23 or later" in readme
