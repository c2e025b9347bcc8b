"""The one retry policy (xsell/retrying.py): delays, budget, hooks, what is never retried."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from xsell import retrying
from xsell.retrying import Backoff, Failure, RetryPolicy, retry_async, retry_sync


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the pauses instead of sleeping them (both flavours)."""
    pauses: list[float] = []

    async def fake_async_sleep(seconds: float) -> None:
        pauses.append(seconds)

    monkeypatch.setattr(retrying, "async_sleep", fake_async_sleep)
    monkeypatch.setattr(retrying, "sleep", pauses.append)
    return pauses


def flaky(failures: int, error: Exception) -> tuple[list[int], Callable[[], str]]:
    """An attempt that raises ``error`` ``failures`` times, then returns "ok"."""
    calls: list[int] = []

    def attempt() -> str:
        calls.append(1)
        if len(calls) <= failures:
            raise error
        return "ok"

    return calls, attempt


def test_backoff_doubles_up_to_its_cap_and_fixed_stays_put() -> None:
    worker = Backoff(0.1, 5.0)
    assert [worker.delay(n) for n in (1, 2, 3, 5, 6, 7, 40)] == [0.2, 0.4, 0.8, 3.2, 5.0, 5.0, 5.0]
    redis = Backoff(0.05, 2.0)
    assert [redis.delay(n) for n in (1, 4, 5, 6)] == [0.1, 0.8, 1.6, 2.0]
    assert [Backoff.fixed(0.5).delay(n) for n in (1, 2, 9)] == [0.5, 0.5, 0.5]


def test_sync_retries_until_success_and_counts_the_failures(no_sleep: list[float]) -> None:
    calls, attempt = flaky(3, ConnectionError("refused"))
    seen: list[Failure] = []
    policy = RetryPolicy((ConnectionError,), Backoff(0.1, 0.3))
    outcome = retry_sync(attempt, policy, seen.append)
    assert outcome.value == "ok" and outcome.failures == 3 and len(calls) == 4
    assert no_sleep == [0.2, 0.3, 0.3]
    assert [f.failures for f in seen] == [1, 2, 3]
    assert all(isinstance(f.error, ConnectionError) for f in seen)


def test_async_retries_until_success(no_sleep: list[float]) -> None:
    calls, attempt = flaky(2, TimeoutError("no ack"))

    async def once() -> str:
        return attempt()

    outcome = asyncio.run(retry_async(once, RetryPolicy((Exception,), Backoff(0.1, 5.0))))
    assert outcome.value == "ok" and outcome.failures == 2 and len(calls) == 3
    assert no_sleep == [0.2, 0.4]


def test_an_error_not_listed_propagates_at_once(no_sleep: list[float]) -> None:
    calls, attempt = flaky(5, ValueError("a bug, not an outage"))
    with pytest.raises(ValueError, match="a bug"):
        retry_sync(attempt, RetryPolicy((ConnectionError,), Backoff.fixed(1.0)))
    assert len(calls) == 1 and no_sleep == []


def test_the_budget_gives_up_with_the_last_error(
    monkeypatch: pytest.MonkeyPatch, no_sleep: list[float]
) -> None:
    clock = iter(range(100))  # each monotonic() call is one second later
    monkeypatch.setattr(retrying, "monotonic", lambda: float(next(clock)))
    calls, attempt = flaky(50, ConnectionError("still down"))
    policy = RetryPolicy((ConnectionError,), Backoff.fixed(0.5), give_up_after=3.0)
    with pytest.raises(ConnectionError, match="still down"):
        retry_sync(attempt, policy)
    assert len(calls) == 4  # elapsed 1, 2, 3 keep trying; 4 > 3 gives up


def test_cancellation_is_never_retried() -> None:
    attempts: list[int] = []

    async def never() -> None:
        attempts.append(1)
        await asyncio.Event().wait()

    async def go() -> None:
        task = asyncio.ensure_future(retry_async(never, RetryPolicy((Exception,), Backoff(1, 1))))
        await asyncio.wait({task}, timeout=0.01)  # the attempt starts and waits forever
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(go())
    assert attempts == [1]


def test_the_pause_never_runs_past_the_budget(
    monkeypatch: pytest.MonkeyPatch, no_sleep: list[float]
) -> None:
    clock = iter([0.0, 0.0, 2.5, 2.9, 3.1])  # start, then the end of each failed attempt
    monkeypatch.setattr(retrying, "monotonic", lambda: next(clock))
    calls, attempt = flaky(50, ConnectionError("down"))
    with pytest.raises(ConnectionError):
        retry_sync(attempt, RetryPolicy.startup((ConnectionError,), budget=3.0))
    assert no_sleep == [0.5, 0.5, pytest.approx(0.1)]  # 0.5, then capped at what is left
    assert len(calls) == 4
