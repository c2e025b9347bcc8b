"""Two workers share the notification schedule; one is killed (`kill -9`) while they publish:
every due notification still arrives, and exactly once by id (a notification published again
after the crash is the very same message)."""

from __future__ import annotations

import json
import time
from collections import defaultdict

import pytest

from tests.conftest import stack_env
from tests.integration.notify_stack import NotifyStack
from xsell.devenv.servers import LocalBroker, LocalRedis

pytestmark = pytest.mark.integration
USERS = 400


def test_two_workers_and_a_kill_9_deliver_each_due_notification_once(
    broker: LocalBroker, redis_server: LocalRedis
) -> None:
    env = stack_env(
        broker,
        redis_server,
        XSELL_NOTIFY_DEFAULT_CONSENT="push",
        XSELL_NOTIFY_CAPS="",
        XSELL_NOTIFY_QUIET_HOURS="",
        XSELL_NOTIFY_LEASE_SECONDS="2",
    )
    stack = NotifyStack({**env, "XSELL_NOTIFY_ABANDON_SECONDS": "6"}, workers=2)
    try:
        for n in range(20):  # long ago: a model to rank with, nothing scheduled
            stack.buy(f"h{n}", f"buyer{n}", ["a", "b", f"x{n % 5}"], ts=1_700_000_000 + n)
        start = time.time()
        for n in range(USERS):
            stack.add(f"c{n}", f"user{n}", "a", ts=start + n * 0.005)  # due in ~6 to 8 s
        while time.time() < start + 6.2:
            stack.poll(0.1)
        stack.workers[0].kill()  # while both are claiming and publishing
        stack.wait_for(
            lambda: len({json.loads(v)["notification_id"] for _, v in stack.seen}) >= USERS,
            90,
            "every notification",
        )
        stack.poll(4)  # anything published twice arrives by now
        by_id: dict[str, set[bytes]] = defaultdict(set)
        for _, value in stack.seen:
            by_id[json.loads(value)["notification_id"]].add(value)
        assert len(by_id) == USERS
        assert all(len(values) == 1 for values in by_id.values())  # again = the same bytes
        users = {json.loads(v)["user_id"] for _, v in stack.seen}
        assert users == {f"user{n}" for n in range(USERS)}
        assert all(json.loads(v)["items"] for _, v in stack.seen)
        assert "Traceback" not in stack.workers[1].log_text()
    finally:
        stack.stop()
