"""A worker (or several) with short notification durations, a Kafka client for the profiles,
cart-events and orders topics and the notifications topic, and `xsell notifications` (shared by
tests/integration/test_notify.py and tests/system/test_notify_chaos.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from kafka import KafkaConsumer

from tests.conftest import env_settings
from tests.helpers import Bus
from xsell.config.settings import Settings
from xsell.devenv.servers import LocalWorker
from xsell.kafka_clients import create_topics

SHORT = {
    "XSELL_NOTIFY_ABANDON_SECONDS": "2",
    "XSELL_NOTIFY_POST_PURCHASE_SECONDS": "2",
    "XSELL_NOTIFY_POLL_SECONDS": "0.2",
    "XSELL_KAFKA_FETCH_MAX_WAIT_MS": "20",
}


class NotifyStack:
    """Topics and ``workers`` worker processes of one test module."""

    def __init__(self, env: dict[str, str], workers: int = 1) -> None:
        self.env = {**SHORT, **env}
        self.settings: Settings = env_settings(self.env)
        create_topics(self.settings)
        self.workers = [LocalWorker(self.env) for _ in range(workers)]
        for worker in self.workers:
            worker.start()
        self.bus = Bus(self.settings)
        self.consumer = KafkaConsumer(
            self.settings.topic("notifications"),
            bootstrap_servers=self.settings.kafka.broker_list,
            auto_offset_reset="earliest",
            group_id=None,
        )
        self.seen: list[tuple[str, bytes]] = []  # (key, value) in arrival order

    def profile(self, user: str, **fields: Any) -> None:
        self.bus.send("profiles", user, {"type": "user", "user_id": user, **fields})

    def add(self, eid: str, user: str, item: str, ts: float | None = None) -> None:
        event = {"event_id": eid, "type": "add_to_cart", "user_id": user, "item_id": item}
        self.bus.send("cart-events", user, {**event, "ts": time.time() if ts is None else ts})

    def view(self, eid: str, user: str, item: str) -> None:
        event = {"event_id": eid, "type": "view", "user_id": user, "item_id": item}
        self.bus.send("cart-events", user, {**event, "ts": time.time()})

    def remove(self, eid: str, user: str, item: str) -> None:
        event = {"event_id": eid, "type": "remove_from_cart", "user_id": user, "item_id": item}
        self.bus.send("cart-events", user, {**event, "ts": time.time()})

    def buy(self, oid: str, user: str | None, items: list[str], ts: float | None = None) -> None:
        order = {"event_id": oid, "type": "purchase", "order_id": oid, "user_id": user}
        order |= {"ts": time.time() if ts is None else ts, "items": [{"item_id": i} for i in items]}
        self.bus.send("orders", user, order)

    def poll(self, seconds: float = 0.3) -> None:
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            got = self.consumer.poll(timeout_ms=max(int(left * 1000), 1))
            for records in got.values():
                self.seen += [(r.key.decode(), r.value) for r in records]
            if left <= 0:
                return

    def of(self, user: str) -> list[dict[str, Any]]:
        return [json.loads(v) for k, v in self.seen if k == user]

    def wait_for(self, what: Callable[[], Any], timeout: float = 30.0, label: str = "") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.poll(0.2)
            value = what()
            if value:
                return value
        raise AssertionError(f"timed out after {timeout}s waiting for {label or what}")

    def notifications(self, user: str) -> dict[str, Any]:
        """`xsell notifications USER --json` in a process of its own."""
        done = subprocess.run(
            [sys.executable, "-m", "xsell.cli", "notifications", user, "--json"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, **self.env},
        )
        assert done.returncode == 0, done.stderr
        result: dict[str, Any] = json.loads(done.stdout)
        return result

    def pending(self, user: str) -> list[dict[str, Any]]:
        """The user's pending notifications, read in this process (no process start-up)."""
        from xsell.cli.common import with_store
        from xsell.notify.views import user_notifications

        result = with_store(self.settings, lambda s: user_notifications(s, self.settings, user))
        pending: list[dict[str, Any]] = result["pending"]
        return pending

    def decisions(self, user: str) -> list[tuple[str, str | None]]:
        """(decision, why) of the user's log, oldest first."""
        log = self.notifications(user)["decisions"]
        return [(d["decision"], d.get("why")) for d in reversed(log)]

    def stop(self) -> None:
        self.consumer.close()
        self.bus.close()
        for worker in self.workers:
            worker.stop()
