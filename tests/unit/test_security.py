"""Security settings: Redis ACL user and TLS files, Kafka SASL / TLS for Faust and
kafka-python, refusal of unsafe setups, secrets never printed, and forget_user tombstones."""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import faust
import pytest
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from pydantic import ValidationError

from xsell.config.settings import Settings, safe_errors
from xsell.kafka_clients import faust_credentials, security_options
from xsell.models.events import ForgetUser, Limits, PurchaseEvent
from xsell.ops.privacy import forget_event
from xsell.store.backend.client import client_options
from xsell.streams.app import faust_app
from xsell.streams.handler import BatchHandler, Record, encode

SECRETS = {"XSELL_REDIS_PASSWORD": "redis-pw-7f3a9c", "XSELL_KAFKA_SASL_PASSWORD": "sasl-pw-b41d2e"}
URL_SECRET = "url-pw-92cc01"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("XSELL_"):
            monkeypatch.delenv(name)


@pytest.fixture
def pem(tmp_path: Path) -> Path:
    """A file that exists (the settings only check existence; contents matter at connect)."""
    path = tmp_path / "x.pem"
    path.write_text("-----BEGIN CERTIFICATE-----\n")
    return path


def sasl(**extra: Any) -> Settings:
    values: dict[str, Any] = {
        "kafka_security_protocol": "SASL_SSL",
        "kafka_sasl_mechanism": "SCRAM-SHA-512",
        "kafka_sasl_username": "xsell",
        "kafka_sasl_password": SECRETS["XSELL_KAFKA_SASL_PASSWORD"],
    }
    values.update(extra)
    return Settings(**values)


# --- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kafka_security_protocol": "SASL_SSL"}, "SASL needs kafka_sasl_username"),
        ({"kafka_security_protocol": "SASL_PLAINTEXT", "kafka_sasl_username": "u"}, "SASL needs"),
        ({"kafka_sasl_username": "u", "kafka_sasl_password": "p"}, "has no SASL"),
        ({"kafka_ssl_ca_file": "PEM"}, "need kafka_security_protocol SSL or SASL_SSL"),
        ({"kafka_security_protocol": "SSL", "kafka_ssl_cert_file": "PEM"}, "go together"),
        (
            {"kafka_security_protocol": "SSL", "kafka_ssl_ca_file": "/nonexistent/ca.pem"},
            "no such file",
        ),
        ({"redis_tls_ca_file": "PEM"}, "need a rediss:// redis_url"),
        ({"redis_url": "rediss://h:6380/0", "redis_tls_key_file": "PEM"}, "go together"),
        ({"redis_url": "redis://h:6379/3", "redis_cluster": True}, "only database 0"),
        ({"kafka_security_protocol": "TLS"}, "XSELL_KAFKA_SECURITY_PROTOCOL"),
        ({"kafka_sasl_mechanism": "GSSAPI"}, "XSELL_KAFKA_SASL_MECHANISM"),
    ],
)
def test_security_settings_that_cannot_work_fail_at_start(
    kwargs: dict[str, Any], message: str, pem: Path
) -> None:
    values = {k: str(pem) if v == "PEM" else v for k, v in kwargs.items()}
    with pytest.raises(ValidationError) as info:
        Settings(**values)
    assert message in str(info.value) + safe_errors(info.value)


def test_complete_security_settings_are_accepted(pem: Path) -> None:
    s = sasl(
        kafka_ssl_ca_file=str(pem),
        kafka_ssl_cert_file=str(pem),
        kafka_ssl_key_file=str(pem),
        redis_url="rediss://redis.internal:6380/0",
        redis_username="xsell",
        redis_password="pw",
        redis_tls_ca_file=str(pem),
        redis_tls_cert_file=str(pem),
        redis_tls_key_file=str(pem),
    )
    assert s.kafka.uses_tls and s.unsafe_reasons() == []


# --- unsafe setups -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"redis_url": "redis://10.0.0.5:6379/0"}, "Redis at 10.0.0.5 without a password"),
        (
            {
                "kafka_brokers": "kafka.internal:9092",
                "kafka_security_protocol": "SASL_PLAINTEXT",
                "kafka_sasl_mechanism": "PLAIN",
                "kafka_sasl_username": "u",
                "kafka_sasl_password": "p",
            },
            "SASL PLAIN password sent without TLS to Kafka at kafka.internal:9092",
        ),
    ],
)
def test_unsafe_setups_are_named(kwargs: dict[str, Any], reason: str) -> None:
    assert Settings(**kwargs).unsafe_reasons() == [reason]


@pytest.mark.parametrize(
    "kwargs",
    [
        {
            "kafka_brokers": "127.0.0.1:9092,[::1]:9093",
            "kafka_security_protocol": "SASL_PLAINTEXT",
            "kafka_sasl_username": "u",
            "kafka_sasl_password": "p",
        },  # loopback only
        {
            "kafka_brokers": "k:9092",
            "kafka_security_protocol": "SASL_SSL",
            "kafka_sasl_username": "u",
            "kafka_sasl_password": "p",
        },  # PLAIN inside TLS
        {
            "kafka_brokers": "k:9092",
            "kafka_security_protocol": "SASL_PLAINTEXT",
            "kafka_sasl_mechanism": "SCRAM-SHA-256",
            "kafka_sasl_username": "u",
            "kafka_sasl_password": "p",
        },  # SCRAM never sends the password
        {"redis_url": "rediss://:pw@10.0.0.5:6380/0"},
    ],
)
def test_safe_setups(kwargs: dict[str, Any]) -> None:
    assert Settings(**kwargs).unsafe_reasons() == []


def cli(args: Sequence[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("XSELL_")}
    return subprocess.run(
        [sys.executable, "-m", "xsell.cli", *args],
        capture_output=True,
        text=True,
        env={**clean, **env},
        timeout=120,
        check=False,
        cwd=ROOT,
    )


@pytest.mark.parametrize("command", [["worker"], ["forget-user", "u1"]])
def test_commands_refuse_an_unsafe_setup(command: list[str]) -> None:
    env = {
        "XSELL_REDIS_URL": "redis://10.0.0.5:6379/0",
        "XSELL_KAFKA_BROKERS": "k:9092",
        "XSELL_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "XSELL_KAFKA_SASL_USERNAME": "u",
        "XSELL_KAFKA_SASL_PASSWORD": SECRETS["XSELL_KAFKA_SASL_PASSWORD"],
    }
    result = cli(command, env)
    assert result.returncode == 1, result.stderr[-2000:]
    assert "unsafe configuration: Redis at 10.0.0.5 without a password; SASL PLAIN" in (
        result.stderr
    )
    assert "XSELL_ALLOW_UNSAFE=true" in result.stderr
    for secret in SECRETS.values():
        assert secret not in result.stdout + result.stderr


def test_an_unsafe_setup_runs_when_explicitly_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    from xsell.cli.common import cli_settings as _settings
    from xsell.cli.main import parser
    from xsell.models.errors import ConfigError

    monkeypatch.setenv("XSELL_REDIS_URL", "redis://10.0.0.5:6379/0")
    for command in (
        ["topics", "create"],
        ["neighbors", "x"],
        ["hostile"],
        ["backfill", "f"],
        ["replay", "f"],
        ["forget-user", "u"],
        ["worker"],
    ):
        args = parser().parse_args(command)
        with pytest.raises(ConfigError, match="unsafe configuration"):
            _settings(args)
    assert _settings(parser().parse_args(["config"]), check=False).ops.allow_unsafe is False
    monkeypatch.setenv("XSELL_ALLOW_UNSAFE", "true")
    assert _settings(parser().parse_args(["neighbors", "x"])).unsafe_reasons()


# --- secrets never printed -----------------------------------------------------------------


def test_xsell_config_masks_every_secret() -> None:
    env = {
        **SECRETS,
        "XSELL_REDIS_URL": f"rediss://xsell:{URL_SECRET}@redis.internal:6380/0",
        "XSELL_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "XSELL_KAFKA_SASL_USERNAME": "xsell",
        "XSELL_KAFKA_BROKERS": "kafka.internal:9093",
    }
    result = cli(["config", "--json"], env)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    values = shown["settings"]
    assert values["redis"]["password"] == values["kafka"]["sasl_password"] == "***"
    assert values["redis"]["url"] == "rediss://xsell:***@redis.internal:6380/0"
    assert shown["sources"]["redis.password"] == "env XSELL_REDIS_PASSWORD"
    for secret in [*SECRETS.values(), URL_SECRET]:
        assert secret not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "bad",
    [
        {"XSELL_KAFKA_SECURITY_PROTOCOL": "PLAINTEXT"},  # SASL password without SASL
        {"XSELL_MAX_SUGGESTIONS": "many"},
        {"XSELL_REDIS_URL": f"http://u:{URL_SECRET}@h/0"},
        {"XSELL_KAFKA_SASL_MECHANISM": SECRETS["XSELL_KAFKA_SASL_PASSWORD"]},  # a misplaced secret
    ],
)
def test_validation_errors_never_show_a_secret(bad: dict[str, str]) -> None:
    env = {
        **SECRETS,
        "XSELL_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "XSELL_KAFKA_SASL_USERNAME": "u",
        **bad,
    }
    result = cli(["config"], env)
    assert result.returncode == 2 and "invalid settings" in result.stderr
    for secret in [*SECRETS.values(), URL_SECRET]:
        assert secret not in result.stdout + result.stderr
    with pytest.raises(ValidationError) as info:  # and in Python, even unformatted
        Settings(**{k[len("XSELL_") :].lower(): v for k, v in env.items()})
    for text in (str(info.value), repr(info.value), safe_errors(info.value)):
        for secret in [*SECRETS.values(), URL_SECRET]:
            assert secret not in text


def test_reprs_of_settings_and_credentials_hide_secrets() -> None:
    s = sasl(redis_password=SECRETS["XSELL_REDIS_PASSWORD"])
    creds = faust_credentials(s)
    for text in (repr(s), str(s), json.dumps(s.masked(), default=str), repr(creds)):
        for secret in SECRETS.values():
            assert secret not in text


# --- plumbing ------------------------------------------------------------------------------


def test_faust_gets_sasl_over_tls() -> None:
    s = sasl()
    creds = faust_app(s).conf.broker_credentials
    assert isinstance(creds, faust.SASLCredentials)
    auth = credentials_to_aiokafka_auth(creds)
    assert auth["security_protocol"] == "SASL_SSL"
    assert auth["sasl_mechanism"] == "SCRAM-SHA-512"
    assert auth["sasl_plain_username"] == "xsell"
    assert auth["sasl_plain_password"] == SECRETS["XSELL_KAFKA_SASL_PASSWORD"]
    context = auth["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


@pytest.mark.parametrize(
    ("protocol", "mechanism"), [("SASL_PLAINTEXT", "PLAIN"), ("SASL_PLAINTEXT", "SCRAM-SHA-256")]
)
def test_faust_gets_sasl_without_tls(protocol: str, mechanism: str) -> None:
    s = sasl(kafka_security_protocol=protocol, kafka_sasl_mechanism=mechanism)
    auth = credentials_to_aiokafka_auth(faust_credentials(s))
    assert (auth["security_protocol"], auth["sasl_mechanism"]) == (protocol, mechanism)
    assert auth["ssl_context"] is None


def test_faust_gets_tls_only_and_plaintext_by_default() -> None:
    auth = credentials_to_aiokafka_auth(faust_credentials(Settings(kafka_security_protocol="SSL")))
    assert auth["security_protocol"] == "SSL"
    assert isinstance(auth["ssl_context"], ssl.SSLContext)
    assert faust_credentials(Settings()) is None
    assert faust_app(Settings()).conf.broker_credentials is None


def test_kafka_python_options(pem: Path) -> None:
    assert security_options(Settings()) == {"security_protocol": "PLAINTEXT"}
    options = security_options(sasl(kafka_ssl_ca_file=str(pem)))
    assert options == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "xsell",
        "sasl_plain_password": SECRETS["XSELL_KAFKA_SASL_PASSWORD"],
        "ssl_check_hostname": True,
        "ssl_cafile": str(pem),
    }


def test_redis_client_options(pem: Path) -> None:
    s = Settings(
        redis_url="rediss://redis.internal:6380/0",
        redis_username="xsell",
        redis_password="pw",
        redis_tls_ca_file=str(pem),
        redis_tls_cert_file=str(pem),
        redis_tls_key_file=str(pem),
    )
    options = client_options(s)
    assert options["username"] == "xsell" and options["password"] == "pw"
    assert options["ssl_ca_certs"] == options["ssl_certfile"] == options["ssl_keyfile"] == str(pem)
    assert "username" not in client_options(Settings())


# --- forgetting a user ---------------------------------------------------------------------


class FakeEngine:
    """Records each process() call; one message per purchase."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.positions: list[list[str]] = []

    async def process(
        self, events: Sequence[Any], positions: Sequence[Any] | None = None
    ) -> list[dict[str, Any]]:
        self.calls.append([e.event_id for e in events])
        self.positions.append([f"{p.source}@{p.offset}" for p in positions or ()])
        return [
            {"user_id": e.user_id, "suggestion_id": e.event_id}
            for e in events
            if isinstance(e, PurchaseEvent)
        ]


def test_forget_user_gives_a_tombstone_in_its_place_in_the_batch() -> None:
    def buy(n: int) -> bytes:
        return json.dumps(
            {
                "event_id": f"p{n}",
                "type": "purchase",
                "order_id": f"o{n}",
                "user_id": "u1",
                "ts": 1e9,
                "items": [{"item_id": "a"}],
            }
        ).encode()

    forget = json.dumps({"event_id": "f1", "type": "forget_user", "user_id": "u1", "ts": 1e9})
    values = [buy(1), forget.encode(), buy(2), b"not json", forget.replace("f1", "f2").encode()]
    engine = FakeEngine()
    handler = BatchHandler(engine, "orders", Limits())  # type: ignore[arg-type]
    out = asyncio.run(handler.handle([Record("t", 0, n, v) for n, v in enumerate(values)]))
    assert out.suggestions == [
        ("u1", {"user_id": "u1", "suggestion_id": "p1"}),
        ("u1", None),
        ("u1", {"user_id": "u1", "suggestion_id": "p2"}),
        ("u1", None),
    ]
    assert engine.calls == [["p1", "f1"], ["p2", "f2"]]
    # each event with its record's position (the store's redelivery check); the invalid
    # record at offset 3 has none
    assert engine.positions == [["t:0@0", "t:0@1"], ["t:0@2", "t:0@4"]]
    assert len(out.dead_letters) == 1
    assert encode(None) is None


def test_forget_event_is_validated_like_input() -> None:
    event = forget_event(Settings(), "{u}:*", now=1_700_000_000.0)
    assert isinstance(event, ForgetUser) and event.user_id == "{u}:*"
    assert event.event_id.startswith("forget-")
    with pytest.raises(Exception, match="control"):
        forget_event(Settings(), "u\x00")
