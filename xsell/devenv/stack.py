"""A whole xsell deployment on one machine: broker and Redis (private ones unless configured),
topics, and worker processes. Used by ``xsell demo``, the benchmarks and the tests."""

from __future__ import annotations

import logging
import os
import shlex
from types import TracebackType

from xsell.config.settings import Settings, load_settings
from xsell.devenv.servers import LocalBroker, LocalRedis, LocalWorker
from xsell.kafka_clients import create_topics

log = logging.getLogger(__name__)
# what another shell needs to reach the stack (exports): its broker, its Redis and namespace
SHARED = ("XSELL_KAFKA_BROKERS", "XSELL_REDIS_URL", "XSELL_KEY_NAMESPACE", "XSELL_TOPIC_PREFIX")


class LocalStack:
    """Starts what is not configured; stops, by PID, only what it started."""

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        workers: int = 1,
        private_broker: bool | None = None,
        private_redis: bool | None = None,
    ) -> None:
        self.env = dict(env or {})
        merged = {**os.environ, **self.env}
        self.private_broker = (
            ("XSELL_KAFKA_BROKERS" not in merged) if private_broker is None else private_broker
        )
        self.private_redis = (
            ("XSELL_REDIS_URL" not in merged) if private_redis is None else private_redis
        )
        self.n_workers = workers
        self.broker: LocalBroker | None = None
        self.redis: LocalRedis | None = None
        self.workers: list[LocalWorker] = []

    def start(self) -> Settings:
        if self.private_broker:
            self.broker = LocalBroker()
            self.broker.start()
            self.env["XSELL_KAFKA_BROKERS"] = self.broker.bootstrap
        if self.private_redis:
            self.redis = LocalRedis()
            self.redis.start()
            self.env["XSELL_REDIS_URL"] = self.redis.url
        settings = self.settings()
        create_topics(settings)
        for _ in range(self.n_workers):
            self.add_worker()
        return settings

    def settings(self) -> Settings:
        saved = dict(os.environ)
        os.environ.update(self.env)
        try:
            return load_settings()
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def add_worker(self) -> LocalWorker:
        worker = LocalWorker(self.env)
        worker.start()
        self.workers.append(worker)
        return worker

    def exports(self, names: tuple[str, ...] = SHARED) -> list[str]:
        """``export NAME=value`` lines (shell-quoted) of the settings a command needs to reach
        this stack: its random ports, so that ``xsell status`` and the like find them."""
        merged = {**os.environ, **self.env}
        return [f"export {n}={shlex.quote(merged[n])}" for n in names if n in merged]

    def pids(self) -> dict[str, int]:
        out = {f"worker-{i}": w.pid for i, w in enumerate(self.workers) if w.proc}
        if self.broker and self.broker.proc:
            out["broker"] = self.broker.pid
        if self.redis and self.redis.proc:
            out["redis"] = self.redis.pid
        return out

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        for child in (self.broker, self.redis):
            if child is not None:
                child.stop()

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
