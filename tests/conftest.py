"""Fixtures: a private redis-server and a private Kafka-protocol broker (Tansu) on free ports,
started once per session and stopped by PID; per-test namespaces so tests never share state."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from xsell.config.settings import Settings, load_settings
from xsell.devenv.servers import LocalBroker, LocalRedis, LocalWorker
from xsell.kafka_clients import create_topics

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
ONLINE_RETAIL = SHARED_DATA / "online_retail_ii_2009_2010.csv.gz"
_ids = itertools.count()


def require_shared_data() -> Path:
    """The Online Retail II file; skips where ../shared is absent, but fails in CI (CI=true)."""
    if not ONLINE_RETAIL.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"CI must have the shared data set at {ONLINE_RETAIL}")
        pytest.skip(
            f"needs the shared data set at {ONLINE_RETAIL} (present in CI, absent in a plain clone)"
        )
    return ONLINE_RETAIL


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/system is the slow tier (`make system`)."""
    for item in items:
        if "system" in item.path.parts[-3:-1]:
            item.add_marker(pytest.mark.system)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[LocalRedis]:
    with LocalRedis() as server:
        yield server  # type: ignore[misc]


@pytest.fixture(scope="session")
def broker() -> Iterator[LocalBroker]:
    with LocalBroker() as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def make_settings(redis_server: LocalRedis) -> Callable[..., Settings]:
    """Settings on the private Redis with a fresh key namespace (decay off unless given)."""

    def make(**overrides: Any) -> Settings:
        n = next(_ids)
        values: dict[str, Any] = {
            "redis_url": redis_server.url,
            "key_namespace": f"t{n}",
            "half_life_days": 0,
        }
        values.update(overrides)
        return load_settings(**values)

    return make


def stack_env(broker: LocalBroker, redis: LocalRedis, **extra: str) -> dict[str, str]:
    n = next(_ids)
    env = {
        "XSELL_KAFKA_BROKERS": broker.bootstrap,
        "XSELL_REDIS_URL": redis.url,
        "XSELL_TOPIC_PREFIX": f"t{n}.",
        "XSELL_APP_ID": f"xsell-t{n}",
        "XSELL_KEY_NAMESPACE": f"t{n}",
        "XSELL_HALF_LIFE_DAYS": "0",
        "XSELL_KAFKA_SESSION_TIMEOUT": "3",
        "XSELL_KAFKA_HEARTBEAT_INTERVAL": "0.5",
        "XSELL_BATCH_WINDOW": "0.01",
    }
    env.update(extra)
    return env


def env_settings(env: dict[str, str]) -> Settings:
    mapping = {k[len("XSELL_") :].lower(): v for k, v in env.items() if k.startswith("XSELL_")}
    return load_settings(**mapping)


class Pipeline:
    """Topics + one worker of one test, on the session's broker and Redis."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.settings = env_settings(env)
        create_topics(self.settings)
        self.worker = LocalWorker(env)
        self.worker.start()

    def stop(self) -> None:
        self.worker.stop()


@pytest.fixture
def pipeline(
    broker: LocalBroker, redis_server: LocalRedis, request: pytest.FixtureRequest
) -> Iterator[Pipeline]:
    extra = getattr(request, "param", {}) or {}
    pipe = Pipeline(stack_env(broker, redis_server, **extra))
    yield pipe
    pipe.stop()
    log = pipe.worker.log_text()
    assert "Traceback" not in log, f"worker logged a traceback:\n{log[-4000:]}"
