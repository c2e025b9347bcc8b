"""Buy again on a real Redis (xsell/store/core/rebuy.py): each item's first purchases, rebuys
and mean gap are counted once however often a purchase is delivered, as the state oracle and a
bulk load expect; ranking offers a known user's due repeatable item as kind rebuy, never a
durable, never to a guest."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.helpers import run
from xsell.config.settings import Settings
from xsell.engine import Engine
from xsell.engine.messages import offer_json
from xsell.models.events import OrderLine, PurchaseEvent
from xsell.models.followed import FollowUp
from xsell.models.messages.outputs import Offer as OfferModel
from xsell.models.ranking import RankRequest
from xsell.store import ROUND_TRIPS, Position, Store
from xsell.store.core.rebuy import rebuy_calls

pytestmark = pytest.mark.integration

DAY = 86400.0
T0 = 1_700_000_000.0


def _order(n: int, user: str | None, ts: float, *items: str) -> PurchaseEvent:
    return PurchaseEvent(f"p{n}", f"o{n}", user, ts, tuple(OrderLine(i) for i in items))


async def _counters(store: Store, item: str) -> dict[str, float]:
    raw = await store.client.hgetall(store.keys.item(item).followed_info)
    return {k: float(v) for k, v in raw.items() if k in ("B", "R", "S")}


def test_counters_count_each_purchase_once(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(followed_window_days=30)

    async def go() -> None:
        store = await Store.open(settings)
        try:
            orders = [
                _order(1, "u1", T0, "coffee", "camera"),
                _order(2, "u1", T0 + 10 * DAY, "coffee"),
                _order(3, "u1", T0 + 90 * DAY, "coffee"),  # beyond the followed-by window too
                _order(4, "u2", T0, "coffee"),
                _order(5, None, T0, "coffee"),  # a guest: no history, not counted
            ]
            at = [Position("orders:0", n) for n in range(len(orders))]
            await store.apply(orders, positions=at)
            await store.apply(orders, positions=at)  # redelivered
            await store.apply([_order(2, "u1", T0 + 10 * DAY, "coffee")])  # duplicate send
            assert await _counters(store, "coffee") == {
                "B": 2.0,
                "R": 2.0,
                "S": 90 * DAY,
            }  # mean 45 days
            assert await _counters(store, "camera") == {"B": 1.0}
            # the guard: an applied purchase's call counts nothing (its marker is kept for
            # the window); a new one counts once, then nothing (a batch that died after its
            # third round trip, redelivered)
            follow = FollowUp([], [], ["coffee"], {"coffee": DAY})
            now_ms = int(T0 * 1000)
            assert await store.runner.run(
                rebuy_calls(store.keys, settings, orders[1], follow, now_ms)
            ) == [0]
            new = _order(50, "u1", T0 + 91 * DAY, "coffee")
            calls = rebuy_calls(store.keys, settings, new, follow, now_ms)
            first = await store.runner.run(calls)
            again = await store.runner.run(calls)
            assert (first, again) == ([1], [0])
            assert (await _counters(store, "coffee"))["R"] == 3.0
        finally:
            await store.flush_namespace()
            await store.close()

    run(go())


def test_the_state_oracle_expects_the_counters(make_settings: Callable[..., Settings]) -> None:
    from xsell.verify.state_oracle import BatchTruth

    settings = make_settings(followed_window_days=30, max_items_per_order=3)
    orders = [
        _order(n, f"u{n % 4}", T0 + n * DAY / 2, *[f"i{(n * 7 + j) % 9}" for j in range(n % 5)])
        for n in range(1, 60)
    ]

    async def go() -> None:
        store = await Store.open(settings)
        try:
            for lo in range(0, len(orders), 7):
                await store.apply(orders[lo : lo + 7])
            truth = BatchTruth(orders, settings.learning.max_items_per_order)
            assert any(s.endswith(":fh") for s in truth.suffixes())
            diff = await truth.compare(store)
            assert diff.total == 0, diff.examples
        finally:
            await store.flush_namespace()
            await store.close()

    run(go())


def _shop() -> list[PurchaseEvent]:
    """20 shoppers buy coffee every 10 days (with a mug the first time) and a camera once."""
    orders: list[PurchaseEvent] = []
    n = 0
    for u in range(20):
        for visit in range(4):
            n += 1
            items = ["coffee", "mug", "camera"] if visit == 0 else ["coffee"]
            orders.append(_order(n, f"s{u}", T0 + visit * 10 * DAY + u, *items))
    return orders


def test_a_due_repeatable_item_comes_back_as_rebuy_and_a_durable_never(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(followed_window_days=30, self_tuning=False)

    async def go() -> None:
        store = await Store.open(settings)
        try:
            await store.apply(_shop())
            # me: coffee and a camera 12 days before the cart (coffee's cycle: 10 days)
            await store.apply([_order(999, "me", T0 + 30 * DAY, "coffee", "camera")])
            engine = Engine(store, settings)
            now = T0 + 42 * DAY

            def cart(user: str | None, at: float = now) -> RankRequest:
                return RankRequest(["mug"], frozenset({"mug"}), at, user, "cart", fills_gap=True)

            await engine.rank([cart(None)])  # the rules' first read
            before = ROUND_TRIPS.round_trips
            await engine.rank([cart(None)])
            guest_trips = ROUND_TRIPS.round_trips - before
            before = ROUND_TRIPS.round_trips
            await engine.rank([cart("me")])
            # the history and its items' counters ride with the statistics: no round trip
            assert ROUND_TRIPS.round_trips - before == guest_trips

            ranked = await engine.rank([cart("me"), cart(None), cart("me", T0 + 33 * DAY)])
            mine, guest, early = ranked
            kinds = {o.item_id: o.kind for o in mine}
            assert kinds["coffee"] == "rebuy"
            assert "camera" not in kinds  # owned, and bought again by nobody: a durable
            message = offer_json(next(o for o in mine if o.kind == "rebuy"))
            assert message["because"]["rebuy"] == {"every_days": 10, "last_days": 12}
            OfferModel.model_validate(message)  # the contract
            assert all(o.kind != "rebuy" for o in guest)
            # 3 days after buying it: not due, and owned items stay excluded
            assert "coffee" not in {o.item_id for o in early}
        finally:
            await store.flush_namespace()
            await store.close()

    run(go())
