"""Start-up with the broker down: ``xsell worker``, ``xsell api`` and ``xsell topics create``
wait for it with one line per try, within XSELL_KAFKA_STARTUP_TIMEOUT_SECONDS, then exit
non-zero with one line (no traceback); a broker that comes up within the bound is used.
Real ``xsell`` processes, nothing listening on the broker's port (a free one). Also: the API
without Redis exits in one line, and a start and a request log no library noise (redis-py's
"synchronous Retry" warning, kafka-python's INFO lines)."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys

import pytest

from tests.conftest import env_settings, stack_env
from tests.helpers import wait_until
from tests.integration.api_stack import ApiStack, cart_event
from xsell.devenv.servers import LocalBroker, LocalRedis, LocalWorker, free_port
from xsell.kafka_clients import create_topics

pytestmark = pytest.mark.integration
BUDGET = 3  # seconds of XSELL_KAFKA_STARTUP_TIMEOUT_SECONDS in these tests
WAITING = re.compile(r" WARNING xsell\.kafka_clients: waiting for Kafka \((\d+)s of 3s\): ")
SAFETY_NET = 90  # a process that outlives this hangs: the test fails (no speed is measured)


def no_broker_env(redis: LocalRedis) -> dict[str, str]:
    """A stack whose broker (never started) has no listener on its port; keys long enough
    for any key policy."""
    env = stack_env(LocalBroker(), redis)
    env.update(
        XSELL_KAFKA_STARTUP_TIMEOUT_SECONDS=str(BUDGET),
        XSELL_API_PORT=str(free_port()),
        XSELL_API_KEYS="sk-" + secrets.token_hex(24),
        XSELL_API_PUBLIC_KEYS="pk-" + secrets.token_hex(24),
        XSELL_API_USER_TOKEN_SECRET=secrets.token_hex(32),
    )
    return env


@pytest.mark.parametrize("command", [("worker",), ("api",), ("topics", "create")])
def test_without_a_broker_it_waits_one_line_per_try_then_exits_in_one_line(
    redis_server: LocalRedis, command: tuple[str, ...]
) -> None:
    env = {**os.environ, **no_broker_env(redis_server)}
    done = subprocess.run(
        [sys.executable, "-m", "xsell.cli", *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=SAFETY_NET,
        check=False,
    )
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert done.returncode != 0
    assert "Traceback" not in done.stdout + done.stderr, lines
    # the worker says first what it starts with (masked settings), then waits
    starting = [line for line in lines if "xsell worker starting with" in line]
    assert len(starting) == (1 if command[0] == "worker" else 0), lines
    *waits, last = [line for line in lines if line not in starting]
    assert last.startswith("xsell: Kafka unreachable at 127.0.0.1:"), lines
    assert f"gave up after {BUDGET}s" in last and "XSELL_KAFKA_STARTUP_TIMEOUT_SECONDS" in last
    assert len(waits) >= 2 and all(WAITING.search(line) for line in waits), lines
    # within the bound: the last try started when the budget was spent, not later
    assert max(int(WAITING.search(line)[1]) for line in waits) <= BUDGET  # type: ignore[index]


def test_the_api_without_redis_exits_in_one_line(broker: LocalBroker) -> None:
    env = {**os.environ, **no_broker_env(LocalRedis())}  # neither is started...
    env["XSELL_KAFKA_BROKERS"] = broker.bootstrap  # ...but the broker is the session's
    done = subprocess.run(
        [sys.executable, "-m", "xsell.cli", "api"],
        env=env,
        capture_output=True,
        text=True,
        timeout=SAFETY_NET,
        check=False,
    )
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert done.returncode != 0 and "Traceback" not in done.stderr, lines
    assert lines[-1].startswith("xsell: Redis unreachable at redis://127.0.0.1:"), lines


def test_the_worker_starts_when_the_broker_comes_up_within_the_bound(
    redis_server: LocalRedis,
) -> None:
    broker = LocalBroker()  # its port is free until it starts
    env = stack_env(broker, redis_server, XSELL_KAFKA_STARTUP_TIMEOUT_SECONDS="60")
    worker = LocalWorker(env)
    worker.launch()
    try:
        wait_until(lambda: "waiting for Kafka" in worker.log_text(), 30, "a waiting line")
        assert worker.alive()
        broker.start()
        create_topics(env_settings(env))
        worker.wait_ready(60)
        log = worker.log_text()
        assert "Traceback" not in log, log[-3000:]
        assert "gave up" not in log
    finally:
        worker.stop()
        broker.stop()


# redis-py's warning, and kafka-python's INFO lines by logger (our format) or text (Faust's)
NOISE = re.compile(
    r"UserWarning|synchronous (redis\.retry\.)?Retry| INFO kafka[.:]"
    r"|Attempting bootstrap|Bootstrap complete|<KafkaConnection|<KafkaTCPTransport|IO loop"
)


def test_start_up_and_a_request_log_nothing_a_user_cannot_act_on(
    broker: LocalBroker, redis_server: LocalRedis
) -> None:
    """No redis-py ``UserWarning`` about a synchronous Retry, no kafka-python INFO lines, in
    the worker's and the API's logs of a start and a request."""
    stack = ApiStack(stack_env(broker, redis_server))
    try:
        assert stack.get("/v1/items/phone/complements").status_code in (200, 404)
        assert stack.post("/v1/events", [cart_event("noise-1", "u1", "phone")]).status_code == 202
    finally:
        stack.stop()
    for log in (stack.worker.log_text(), stack.api.log_text()):
        assert "xsell" in log  # the logs were captured
        assert not NOISE.search(log), NOISE.findall(log)
