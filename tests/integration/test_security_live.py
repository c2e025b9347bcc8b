"""Security for real: Redis over TLS (mutual, certificates made here with openssl) with an ACL
user and password, a worker on it whose logs never show a secret, and forgetting a user end to
end (forget_user event and `xsell forget-user`: cart and history gone, tombstones on the
suggestions topic in the user's partition). Kafka SASL cannot be tested for real on Tansu (see
docs/security.md): a worker configured for SCRAM runs against it here only to show that its
password appears in no log line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError, ConnectionError, NoPermissionError
from redis.retry import Retry

from config.settings import Settings, load_settings
from tests.conftest import env_settings, stack_env
from tests.helpers import run
from xsell.devenv.servers import LocalBroker, LocalRedis, LocalWorker, _Child, redis_server_binary
from xsell.engine import sampled
from xsell.kafka_clients import consumer, create_topics, producer
from xsell.store import Store

pytestmark = pytest.mark.integration
REDIS_PW = "acl-pw-5e1f0a"
DEFAULT_PW = "default-pw-c9b2"
SASL_PW = "scram-pw-77d0e4"
# the ACL of docs/security.md, with the tests' key namespaces (t<n>, tls<n>) for xs:*
ACL = [
    "~t*",
    "resetchannels",
    "-@all",
    "+@read",
    "+@write",
    "+@scripting",
    "+@connection",
    "-@dangerous",
    "+info",
]


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_certs(where: Path) -> Path:
    """A CA, a server certificate for 127.0.0.1 and a client certificate."""
    if shutil.which("openssl") is None:
        pytest.fail("openssl is needed for the TLS tests (apt-get install -y openssl)")
    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=xsell-test-ca",
        cwd=where,
    )
    (where / "san.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name, extra in (("server", ["-extfile", "san.cnf"]), ("client", [])):
        openssl(
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            f"{name}.key",
            "-out",
            f"{name}.csr",
            "-subj",
            f"/CN=xsell-{name}",
            cwd=where,
        )
        openssl(
            "x509",
            "-req",
            "-in",
            f"{name}.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            f"{name}.crt",
            "-days",
            "2",
            *extra,
            cwd=where,
        )
    return where


class TlsRedis(_Child):
    """redis-server on a TLS port only, client certificates required, an ACL user ``xsell``
    and a password on the default user."""

    name = "redis-tls"

    def __init__(self, certs: Path) -> None:
        super().__init__()
        self.certs = certs

    def command(self) -> list[str]:
        c = self.certs
        return [
            redis_server_binary(),
            "--port",
            "0",
            "--tls-port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--tls-cert-file",
            str(c / "server.crt"),
            "--tls-key-file",
            str(c / "server.key"),
            "--tls-ca-cert-file",
            str(c / "ca.crt"),
            "--tls-auth-clients",
            "yes",
            "--save",
            "",
            "--appendonly",
            "no",
            "--requirepass",
            DEFAULT_PW,
            "--user",
            "xsell",
            "on",
            f">{REDIS_PW}",
            *ACL,
        ]


@pytest.fixture(scope="module")
def tls_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsRedis]:
    server = TlsRedis(make_certs(tmp_path_factory.mktemp("certs")))
    server.start()
    yield server
    server.stop()


def tls_env(server: TlsRedis) -> dict[str, str]:
    c = server.certs
    return {
        "XSELL_REDIS_URL": f"rediss://127.0.0.1:{server.port}/0",
        "XSELL_REDIS_USERNAME": "xsell",
        "XSELL_REDIS_PASSWORD": REDIS_PW,
        "XSELL_REDIS_TLS_CA_FILE": str(c / "ca.crt"),
        "XSELL_REDIS_TLS_CERT_FILE": str(c / "client.crt"),
        "XSELL_REDIS_TLS_KEY_FILE": str(c / "client.key"),
    }


def sync_client(server: TlsRedis, **over: Any) -> redis.Redis:
    c = server.certs
    options: dict[str, Any] = {
        "port": server.port,
        "ssl": True,
        "username": "xsell",
        "password": REDIS_PW,
        "ssl_ca_certs": str(c / "ca.crt"),
        "ssl_certfile": str(c / "client.crt"),
        "ssl_keyfile": str(c / "client.key"),
        "decode_responses": True,
        "socket_timeout": 5,
        "retry": Retry(NoBackoff(), 0),
    }
    options.update(over)
    return redis.Redis(**options)


def test_redis_needs_tls_a_client_certificate_and_the_acl_password(tls_redis: TlsRedis) -> None:
    with sync_client(tls_redis) as client:
        assert client.ping() and client.set("t-probe", 1)
        for forbidden in (
            client.flushall,
            lambda: client.set("other", 1),
            client.acl_whoami,
            lambda: client.config_get("*"),
        ):
            with pytest.raises(NoPermissionError):  # the ACL: own namespace, no admin
                forbidden()
    with pytest.raises(AuthenticationError), sync_client(tls_redis, password="wrong") as c:
        c.ping()
    with (
        pytest.raises(ConnectionError),
        sync_client(tls_redis, ssl_certfile=None, ssl_keyfile=None) as c,
    ):
        c.ping()  # mutual TLS: no client certificate, no connection
    with (
        pytest.raises(ConnectionError),
        redis.Redis(port=tls_redis.port, socket_timeout=1, retry=Retry(NoBackoff(), 0)) as c,
    ):
        c.ping()  # no TLS


def test_store_over_tls_with_the_acl_user(tls_redis: TlsRedis) -> None:
    settings = load_settings(
        **{k[6:].lower(): v for k, v in tls_env(tls_redis).items()},
        key_namespace="tls1",
        half_life_days=0,
    )
    from models.events import OrderLine, PurchaseEvent

    async def go() -> None:
        store = await Store.open(settings)
        try:
            await store.apply(
                [PurchaseEvent("e1", "o1", "u1", 1e9, (OrderLine("a"), OrderLine("b")))]
            )
            assert await store.client.zscore(store.keys.item("a").pairs, "b") == 1.0
        finally:
            await store.flush_namespace()
            await store.close()

    run(go())


def drain(settings: Settings, count: int, timeout: float = 60) -> list[Any]:
    """(key, partition, value or None) of the next ``count`` suggestion records."""
    cons = consumer(settings, "suggestions", group_id=None, auto_offset_reset="earliest")
    out: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while len(out) < count and time.monotonic() < deadline:
            for records in cons.poll(timeout_ms=200).values():
                out.extend(
                    (
                        r.key.decode() if r.key else None,
                        r.partition,
                        None if r.value is None else json.loads(r.value),
                    )
                    for r in records
                )
    finally:
        cons.close()
    assert len(out) >= count, f"{len(out)} of {count} suggestion records"
    return out


def user_keys(settings: Settings, user: str) -> int:
    async def go() -> int:
        store = await Store.open(settings)
        try:
            return int(await store.client.exists(store.keys.cart(user), store.keys.history(user)))
        finally:
            await store.close()

    return run(go())


def test_worker_on_tls_redis_forgets_users_and_logs_no_secret(
    broker: LocalBroker, redis_server: LocalRedis, tls_redis: TlsRedis
) -> None:
    env = stack_env(broker, redis_server, XSELL_LOG_LEVEL="DEBUG", **tls_env(tls_redis))
    settings = env_settings(env)
    create_topics(settings)
    worker = LocalWorker(env)
    worker.start()
    prod = producer(settings)
    try:
        for user, item in (("u1", "a"), ("u1", "b"), ("u2", "a")):
            prod.send(
                settings.topic("cart-events"),
                key=user.encode(),
                value=json.dumps(
                    {
                        "event_id": f"c-{user}-{item}",
                        "type": "add_to_cart",
                        "user_id": user,
                        "item_id": item,
                        "ts": 1e9,
                    }
                ).encode(),
            )
        prod.flush()
        for user in ("u1", "u2"):
            prod.send(
                settings.topic("orders"),
                key=user.encode(),
                value=json.dumps(
                    {
                        "event_id": f"o-{user}",
                        "type": "purchase",
                        "order_id": f"o-{user}",
                        "user_id": user,
                        "ts": 1e9 + 1,
                        "items": [{"item_id": "c"}],
                    }
                ).encode(),
            )
        prod.flush()
        drain(settings, 5)  # the purchases emptied the carts: now add again (other topic)
        for user in ("u1", "u2"):
            prod.send(
                settings.topic("cart-events"),
                key=user.encode(),
                value=json.dumps(
                    {
                        "event_id": f"c2-{user}",
                        "type": "add_to_cart",
                        "user_id": user,
                        "item_id": "d",
                        "ts": 1e9 + 2,
                    }
                ).encode(),
            )
        prod.flush()
        first = drain(settings, 7)
        assert user_keys(settings, "u1") == user_keys(settings, "u2") == 2  # cart and history
        prod.send(
            settings.topic("orders"),
            key=b"u1",
            value=json.dumps(
                {"event_id": "f-u1", "type": "forget_user", "user_id": "u1", "ts": 1e9 + 3}
            ).encode(),
        )
        prod.flush()
        (tombstone,) = [r for r in drain(settings, 8) if r[2] is None]
        assert tombstone[0] == "u1"
        assert {p for k, p, v in first if k == "u1"} == {tombstone[1]}  # the user's partition
        assert user_keys(settings, "u1") == 0 and user_keys(settings, "u2") == 2

        out = cli(["forget-user", "u2", "--json"], env)
        result = json.loads(out.stdout)
        # cart, history, the latest suggestions, the attribution ledger (hash and zset) and
        # self-tuning's open test cases (u2 is a sampled shopper: a fixed hash of the id)
        assert sampled("u2", settings.tuning.sample)
        assert result["deleted_keys"] == 6 and user_keys(settings, "u2") == 0
        assert result["tombstone_partition"] == next(p for k, p, v in first if k == "u2")
        assert {r[:2] for r in drain(settings, 9) if r[2] is None} == {
            tombstone[:2],
            ("u2", result["tombstone_partition"]),
        }
        for text in (out.stdout, out.stderr):
            assert REDIS_PW not in text and DEFAULT_PW not in text
    finally:
        prod.close()
        worker.stop()
    log = worker.log_text()
    assert "DEBUG" in log and "Traceback" not in log
    assert REDIS_PW not in log and DEFAULT_PW not in log


def cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "xsell.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_a_sasl_password_never_reaches_the_logs(
    broker: LocalBroker, redis_server: LocalRedis
) -> None:
    """Tansu answers SCRAM with UnsupportedSaslMechanism; the worker keeps trying and logs
    its errors (at DEBUG) for a few seconds, none with the password."""
    env = stack_env(
        broker,
        redis_server,
        XSELL_LOG_LEVEL="DEBUG",
        XSELL_KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT",
        XSELL_KAFKA_SASL_MECHANISM="SCRAM-SHA-512",
        XSELL_KAFKA_SASL_USERNAME="xsell",
        XSELL_KAFKA_SASL_PASSWORD=SASL_PW,
    )
    worker = LocalWorker(env)
    worker.launch()
    try:
        deadline = time.monotonic() + 30
        while "SASL" not in worker.log_text().upper() and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(2)
    finally:
        worker.stop()
    log = worker.log_text()
    assert "sasl" in log.lower(), log[-2000:]  # it did try, and said so
    assert SASL_PW not in log
    assert "'sasl_password': '***'" in log  # settings.masked(), nested: kafka.sasl_password
