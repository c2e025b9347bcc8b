"""Security for real: Redis over TLS (mutual, certificates made here with openssl, tls_redis.py)
with an ACL user and password, a worker on it whose logs never show a secret, and forgetting a
user end to end (forget_user event and `xsell forget-user`: cart and history gone, tombstones on
the suggestions topic in the user's partition)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError, ConnectionError, NoPermissionError
from redis.retry import Retry

from tests.conftest import env_settings, stack_env
from tests.helpers import run
from tests.integration.tls_redis import (
    DEFAULT_PW,
    REDIS_PW,
    TlsRedis,
    make_certs,
    sync_client,
    tls_env,
)
from xsell.config.settings import Settings, load_settings
from xsell.devenv.servers import LocalBroker, LocalRedis, LocalWorker
from xsell.engine import sampled
from xsell.kafka_clients import consumer, create_topics, producer
from xsell.store import Store

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tls_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsRedis]:
    server = TlsRedis(make_certs(tmp_path_factory.mktemp("certs")))
    server.start()
    yield server
    server.stop()


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
    from xsell.models.events import OrderLine, PurchaseEvent

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
        # cart, history, the latest suggestions, the attribution ledger (hash and zset),
        # self-tuning's open test cases (u2 is a sampled shopper: a fixed hash of the id), the
        # segment counters and their guard markers, the followed-by window and the
        # followed-by tuner's open case (u2's purchase opened one: a sampled known user)
        assert sampled("u2", settings.tuning.sample)
        assert result["deleted_keys"] == 10 and user_keys(settings, "u2") == 0
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
