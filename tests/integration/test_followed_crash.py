"""Followed-by exactly once on a real Redis (xsell/store/core/follow_lua.py): a batch that dies
between (or inside) its round trips and is redelivered, with or without its done keys, and a
state lost and rebuilt under a worker, leave the follow-up and buy-again counters (and every
other model key) as one clean apply of the same orders does."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from tests.helpers import dump_state, run
from xsell.config.settings import Settings
from xsell.models.events import OrderLine, PurchaseEvent
from xsell.ops.state import rebuild_from_file
from xsell.store import Position, Store
from xsell.verify.state_oracle import BatchTruth

pytestmark = pytest.mark.integration

DAY = 86400.0
T0 = 1_700_000_000.0


class Crash(Exception):
    """The worker died (kill -9) at this point of the batch."""


def _order(n: int, user: str | None, ts: float, *items: str) -> PurchaseEvent:
    return PurchaseEvent(f"p{n}", f"o{n}", user, ts, tuple(OrderLine(i) for i in items))


FIRST = [
    _order(1, "u1", T0, "coffee", "cam"),
    _order(2, "u2", T0, "x"),
    _order(3, "u1", T0 + DAY, "filter"),
]
# the batch that dies: rebuys (coffee, cam), earlier items bought again in the same order, two
# orders of one user in one batch, a guest
CRASHED = [
    _order(4, "u1", T0 + 2 * DAY, "coffee", "card", "filter"),
    _order(5, "u2", T0 + 2 * DAY, "x", "y"),
    _order(6, "u1", T0 + 3 * DAY, "cam", "bag", "coffee"),
    _order(7, None, T0 + 3 * DAY, "cam", "card"),
]
LATER = [_order(8, "u1", T0 + 4 * DAY, "card", "mug"), _order(9, "u2", T0 + 5 * DAY, "y", "x")]


def _at(orders: Sequence[PurchaseEvent], start: int) -> list[Position | None]:
    return [Position("orders:0", start + n) for n in range(len(orders))]


def _dying(monkeypatch: pytest.MonkeyPatch, store: Store, trips: int, half: bool) -> None:
    """Let ``trips`` round trips through, then send the first half of the next one's calls
    (``half``) or none of them, and die."""
    real = store.runner.run
    done = 0

    async def run_then_die(calls: Sequence[Any]) -> list[Any]:
        nonlocal done
        if done == trips:
            if half:
                await real(list(calls)[: len(calls) // 2])
            raise Crash
        done += 1
        return await real(calls)

    monkeypatch.setattr(store.runner, "run", run_then_die)


async def _state(store: Store) -> dict[str, Any]:
    ns = len(store.keys.ns)
    return {k[ns:]: v for k, v in (await dump_state(store)).items()}


@pytest.mark.parametrize(
    ("trips", "half"),
    [
        (1, True),  # inside the second (users) round trip: some FOLLOW_USER and PURCHASE_USER ran
        (2, False),  # after it: every FOLLOW_USER ran, no follow-up was counted
        (2, True),  # inside the third: some follow-ups counted
        (3, False),  # after the third: everything counted, nothing committed
        (3, True),  # inside the commit
    ],
)
@pytest.mark.parametrize("horizon_passed", [False, True])
def test_a_batch_that_dies_and_is_redelivered_counts_its_follow_ups_once(
    make_settings: Callable[..., Settings],
    monkeypatch: pytest.MonkeyPatch,
    trips: int,
    half: bool,
    horizon_passed: bool,
) -> None:
    reference = make_settings(followed_window_days=30)
    crashed = make_settings(followed_window_days=30)

    async def once() -> dict[str, Any]:
        store = await Store.open(reference)
        try:
            await store.apply(FIRST, positions=_at(FIRST, 0))
            await store.apply(CRASHED, positions=_at(CRASHED, 10))
            await store.apply(LATER, positions=_at(LATER, 20))
            return await _state(store)
        finally:
            await store.close()

    async def crash_then_redeliver() -> dict[str, Any]:
        store = await Store.open(crashed)
        try:
            await store.apply(FIRST, positions=_at(FIRST, 0))
            with monkeypatch.context() as patch:
                _dying(patch, store, trips, half)  # trip 1: the check of the batch
                with pytest.raises(Crash):
                    await store.apply(CRASHED, positions=_at(CRASHED, 10))
            k = store.keys
            if horizon_passed:  # redelivered after the done keys expired
                done = [key async for key in store.client.scan_iter(match=f"{k.ns}:{{e:*")]
                await store.client.delete(*done)
            await store.apply(CRASHED, positions=_at(CRASHED, 10))  # redelivered
            await store.apply(CRASHED, positions=_at(CRASHED, 10))  # and again, committed
            assert await store.client.exists(k.follow_memo("u1"), k.follow_memo("u2")) == 0
            await store.apply(LATER, positions=_at(LATER, 20))
            return await _state(store)
        finally:
            await store.close()

    want = run(once())
    got = run(crash_then_redeliver())
    assert want[":{i:coffee}:fh"] == {"B": "1", "R": "2", "S": str(int(3 * DAY))}
    assert want[":{i:cam}:f"] == {"card": 1.0, "filter": 1.0, "bag": 1.0, "mug": 1.0}
    follow = {k: v for k, v in got.items() if k.endswith((":f", ":fr", ":fh", ":fw"))}
    assert follow == {k: v for k, v in want.items() if k.endswith((":f", ":fr", ":fh", ":fw"))}
    assert got == want


def test_a_lost_state_rebuilt_learns_the_follow_ups_in_order(
    make_settings: Callable[..., Settings],
) -> None:
    """Redis loses its data under a worker, which goes on with the later orders (learning no
    followed-by while the state is lost); the rebuild applies the lost earlier orders after
    them, and learns every order's follow-ups in order at the end."""
    settings = make_settings(followed_window_days=30)
    orders = [*FIRST, *CRASHED, *LATER]

    async def go() -> None:
        store = await Store.open(settings)
        try:
            await store.apply([*FIRST, *CRASHED], positions=_at([*FIRST, *CRASHED], 0))
            await store.flush_namespace()  # lost (flush_namespace forgets the epoch: put it back)
            store.epoch = "1"
            await store.apply(LATER, positions=_at(LATER, 7))
            assert store.lost and await store.state_lost()
            k = store.keys
            assert await store.client.exists(k.item("coffee").followed, k.recent("u1")) == 0
            await rebuild_from_file(store, orders, [], source="test")
            assert not await store.state_lost()
            truth = BatchTruth(orders, settings.learning.max_items_per_order)
            diff = await truth.compare(store)
            assert diff.total == 0, diff.examples
            # the rebuilt state goes on as streaming would
            more = [_order(10, "u1", T0 + 6 * DAY, "coffee", "tea")]
            await store.apply(more)
            truth = BatchTruth([*orders, *more], settings.learning.max_items_per_order)
            diff = await truth.compare(store)
            assert diff.total == 0, diff.examples
        finally:
            await store.flush_namespace()
            await store.close()

    run(go())
