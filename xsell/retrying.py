"""The one retry policy of xsell: run an attempt until it succeeds, sleeping a capped
exponential backoff between failures, optionally giving up after a time budget.

Why one helper: the worker's output delivery (``streams/resilience.py``), the commands' wait
for a Kafka broker that is still starting (``xsell/kafka_clients.py``) and the store's Redis
round trips (``xsell/store/client.py``) each wrote this loop by hand, with slightly different
arithmetic and give-up rules. Each caller keeps what is its own: which errors are transient
(``retry_on``), what it says while it waits (``on_failure``), and what giving up means
(the last error is re-raised; the caller turns it into its own one-line error).

Why not ``tenacity`` or ``backoff``: the loops need the same few things (sync and async,
a budget, a hook per failure, the count of failed attempts for the "answers again" log) and
must keep their exact delays; that is about sixty lines here against a new runtime
dependency. Cancellation is never retried: ``asyncio.CancelledError`` is not an
``Exception``, so it passes through unless a caller lists ``BaseException`` (do not).
"""

from __future__ import annotations

from asyncio import sleep as async_sleep
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from time import monotonic, sleep
from typing import Generic, TypeVar

T = TypeVar("T")
Errors = tuple[type[BaseException], ...]


@dataclass(frozen=True, slots=True)
class Backoff:
    """Capped exponential backoff: ``first * 2**min(failures, doublings)``, at most ``cap``
    seconds. ``first == cap`` gives a fixed pause."""

    first: float
    cap: float
    doublings: int = 6

    def delay(self, failures: int) -> float:
        """Seconds to wait after the ``failures``-th failed attempt (1, 2, ...)."""
        return min(self.cap, self.first * 2.0 ** min(failures, self.doublings))

    @classmethod
    def fixed(cls, seconds: float) -> Backoff:
        """The same pause after every failure."""
        return cls(seconds, seconds, 0)


@dataclass(frozen=True, slots=True)
class Failure:
    """One failed attempt, as the ``on_failure`` hook sees it (before the pause)."""

    error: BaseException
    failures: int  # failed attempts so far, this one included
    elapsed: float  # seconds since the first attempt started
    delay: float  # the pause before the next attempt


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T]):
    """The value of the attempt that succeeded, and what it took to get it."""

    value: T
    failures: int
    elapsed: float


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Which errors are retried, how long to pause, and the time budget (None: forever).
    Giving up happens after a failure that ends later than ``give_up_after`` seconds."""

    retry_on: Errors
    backoff: Backoff
    give_up_after: float | None = None

    def next_pause(self, error: BaseException, failures: int, elapsed: float) -> Failure:
        """The failure record for ``error``; re-raises ``error`` when the budget is spent.
        The pause never runs past the budget: the last attempt starts when it ends, so the
        whole wait is bounded by the budget plus one attempt."""
        delay = self.backoff.delay(failures)
        if self.give_up_after is not None:
            if elapsed > self.give_up_after:
                raise error
            delay = min(delay, self.give_up_after - elapsed)
        return Failure(error, failures, elapsed, delay)

    @classmethod
    def startup(cls, retry_on: Errors, budget: float) -> RetryPolicy:
        """How a process waits at start for a server it needs (the worker, the API and
        ``xsell topics`` for Kafka: XSELL_KAFKA_STARTUP_TIMEOUT_SECONDS): half a second,
        doubling to five, for at most ``budget`` seconds; the caller logs one line per
        failure and turns the last error into one line and a non-zero exit."""
        return cls(retry_on, Backoff(0.25, 5.0), give_up_after=budget)


def _ignore(_: Failure) -> None:
    """The default hook: say nothing (callers say what they wait for, in their words)."""


async def retry_async(
    attempt: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    on_failure: Callable[[Failure], None] = _ignore,
) -> Outcome[T]:
    """Await ``attempt()`` until it returns; errors outside ``policy.retry_on`` and the last
    error after the budget propagate."""
    started = monotonic()
    failures = 0
    while True:
        try:
            value = await attempt()
        except policy.retry_on as exc:
            failures += 1
            failure = policy.next_pause(exc, failures, monotonic() - started)
            on_failure(failure)
            await async_sleep(failure.delay)
            continue
        return Outcome(value, failures, monotonic() - started)


def retry_sync(
    attempt: Callable[[], T],
    policy: RetryPolicy,
    on_failure: Callable[[Failure], None] = _ignore,
) -> Outcome[T]:
    """:func:`retry_async` for code without an event loop (the commands)."""
    started = monotonic()
    failures = 0
    while True:
        try:
            value = attempt()
        except policy.retry_on as exc:
            failures += 1
            failure = policy.next_pause(exc, failures, monotonic() - started)
            on_failure(failure)
            sleep(failure.delay)
            continue
        return Outcome(value, failures, monotonic() - started)
