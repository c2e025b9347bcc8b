"""Shoppers' segments on a real Redis (xsell/store/core/segments.py): counted once per purchase
however often it is delivered, the spend histogram moved, read by ranking with the batch,
forgotten by forget_user, written by a bulk load as streaming writes them; and on a real worker
(a suggestion carries the user's segment, a rule for loyal shoppers applies to them only)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import Pipeline
from tests.helpers import Bus, dump_state, run
from tests.integration.test_pipeline import add, load_shop, purchase
from tests.integration.test_rules_pipeline import save
from xsell.config.settings import Settings
from xsell.engine import Engine, segment_params
from xsell.models.events import ForgetUser, OrderLine, PurchaseEvent
from xsell.models.messages.merchant import Rule
from xsell.models.ranking import RankRequest
from xsell.models.segments import Segment, segment_of, spend_bucket
from xsell.ops.loading import backfill, load_history
from xsell.store import ROUND_TRIPS, Store
from xsell.store.core.segments import order_call
from xsell.verify.state_oracle import BatchTruth

pytestmark = pytest.mark.integration


def order(n: int, user: str | None, spend: float, ts: float = 1_700_000_000.0) -> PurchaseEvent:
    line = OrderLine(f"item-{n % 3}", 1, spend)
    return PurchaseEvent(f"e{n}", f"o{n}", user, ts + n, (line,))


ORDERS = [
    order(1, "big", 400.0),
    order(2, "big", 300.0),
    order(3, "small", 10.0),
    order(4, "big", 300.0),
    order(5, "mid", 60.0),
    order(6, None, 999.0),  # a guest: no segment
]


async def _segments(store: Store, settings: Settings, users: list[str]) -> dict[str, Segment]:
    data = await store.ranking.statistics([], 1, with_prior=False, users=users)
    params = segment_params(settings)
    return {u: segment_of(data.segments.get(u), data.spend_histogram, params) for u in users}


def test_purchases_count_once_and_move_the_spend_histogram(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings()

    async def go() -> None:
        store = await Store.open(settings)
        try:
            await store.apply(ORDERS)
            await store.apply(ORDERS[:3])  # redelivered: nothing counts twice
            k = store.keys
            assert await store.client.hgetall(k.segment("big")) == {
                "o": "3",
                "s": "100000",  # hundredths
                "b": str(spend_bucket(1000.0)),
            }
            histogram = await store.client.hgetall(k.spend_histogram)
            assert histogram == {
                str(spend_bucket(1000.0)): "1",
                str(spend_bucket(10.0)): "1",
                str(spend_bucket(60.0)): "1",
            }
            got = await _segments(store, settings, ["big", "small", "mid", "nobody"])
            assert got == {
                "big": Segment("loyal", "high"),
                "small": Segment("returning", "low"),
                "mid": Segment("returning", "mid"),
                "nobody": Segment("new", None),
            }
            # the script itself is guarded: a half-applied batch's call, sent again, counts
            # nothing (its marker is in the user's guard zset)
            call = order_call(k, settings, order(7, "mid", 5.0), int(time.time() * 1000))
            first, again = await store.runner.run([call, call])
            # old bucket, new bucket, moved, the orders before (the buyer's segment in the report)
            assert first == [spend_bucket(60.0), spend_bucket(65.0), 1, 1] and again == []
            assert await store.client.hget(k.segment("mid"), "o") == "2"
        finally:
            await store.close()

    run(go())


def test_forget_user_erases_the_segment_and_its_histogram_count(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings()

    async def go() -> None:
        store = await Store.open(settings)
        try:
            await store.apply(ORDERS)
            await store.notifications.commit(_profile(store, "big"))
            assert await store.privacy.held_records("big") >= 3
            exported = await store.privacy.export("big")
            assert exported["segment"]["o"] == "3" and exported["segment"]["a:location"] == "HN"
            await store.apply([ForgetUser("f1", "big", 1_700_000_100.0)])
            k = store.keys
            assert await store.client.exists(k.segment("big"), k.user_markers("big")) == 0
            assert await store.privacy.held_records("big") == 0
            histogram = await store.client.hgetall(k.spend_histogram)
            assert str(spend_bucket(1000.0)) not in histogram and len(histogram) == 2
        finally:
            await store.close()

    run(go())


def _profile(store: Store, user: str) -> Any:
    writes = store.notifications.writes()
    writes.update_profile(user, None, {}, {"location": "HN", "age_band": None})
    return writes


def test_a_bulk_load_leaves_the_segments_streaming_leaves(
    make_settings: Callable[..., Settings],
) -> None:
    streamed_settings = make_settings()
    bulk_settings = make_settings()

    async def go() -> None:
        streamed = await Store.open(streamed_settings)
        bulk = await Store.open(bulk_settings)
        try:
            await backfill(streamed, ORDERS)
            summary = await load_history(bulk, ORDERS, mode="auto")
            assert summary.mode == "bulk"
            mine = {
                k.split(":", 1)[1]: v
                for k, v in (await dump_state(bulk)).items()
                if ":seg" in k or ":spend" in k
            }
            theirs = {
                k.split(":", 1)[1]: v
                for k, v in (await dump_state(streamed)).items()
                if ":seg" in k or ":spend" in k
            }
            assert mine == theirs and len(mine) == 4  # three shoppers and the histogram
        finally:
            await streamed.close()
            await bulk.close()

    run(go())


def test_ranking_reads_the_segment_in_its_first_round_trip(
    make_settings: Callable[..., Settings],
) -> None:
    """The ranking path's round trips do not grow: a user's segment (one HGETALL) and the
    histogram (one per batch) ride with the statistics (buy-again's reads, which ride too, off:
    tests/integration/test_rebuy.py counts them)."""
    settings = make_settings(self_tuning=False, max_rebuys=0)

    async def measure(engine: Engine, user: str | None) -> tuple[int, int]:
        request = RankRequest(["item-1"], frozenset({"item-1"}), 1_700_000_100.0, user, "cart")
        trips, commands = ROUND_TRIPS.round_trips, ROUND_TRIPS.commands
        await engine.rank([request])
        return ROUND_TRIPS.round_trips - trips, ROUND_TRIPS.commands - commands

    async def go() -> None:
        store = await Store.open(settings)
        try:
            await store.apply(ORDERS)
            engine = Engine(store, settings)
            await measure(engine, None)  # the rules' first read
            trips, commands = await measure(engine, "big")
            anonymous_trips, anonymous_commands = await measure(engine, None)
            # the user's history HMGET joins round trip 3 as before; the segment adds two
            # commands (the user's hash, the histogram) to round trip 1, no round trip
            assert trips == anonymous_trips
            assert commands == anonymous_commands + 3
        finally:
            await store.close()

    run(go())


LOYAL_RULE = Rule.model_validate(
    {
        "name": "loyal shoppers: the bag first",
        "when": {"placements": ["cart"], "segments": ["loyal"]},
        "then": {"pin": ["bag-1"]},
    }
)


def test_a_suggestion_carries_the_segment_and_a_loyal_rule_applies_to_loyal_carts(
    pipeline: Pipeline,
) -> None:
    bus = Bus(pipeline.settings)
    try:
        load_shop(pipeline, bus)  # u1 bought screen-1 once
        for n in range(3):
            bus.send(
                "orders",
                "fan",
                {
                    **purchase(200 + n, ["screen-1"], user="fan"),
                    "items": [{"item_id": "screen-1", "quantity": 1, "price": 15.0}],
                },
            )
        posts = bus.collect("suggestions", 3)
        # a post-purchase suggestion is ranked after its micro-batch is applied: the third
        # order's says loyal (earlier ones of the same micro-batch may too)
        assert posts[-1]["segment"]["lifecycle"] == "loyal"
        assert {p["segment"]["lifecycle"] for p in posts} <= {"returning", "loyal"}
        bus.send(
            "profiles", "fan", {"type": "user", "user_id": "fan", "attributes": {"location": "HN"}}
        )
        rule_id, _ = save(pipeline.settings, LOYAL_RULE)
        time.sleep(1.0)  # ranked 1 s after the save (XSELL_RULES_REFRESH_SECONDS 0.5)
        bus.send("cart-events", "fan", add(300, "fan", "phone-1"))
        (loyal,) = bus.collect("suggestions", 1)
        assert loyal["segment"]["lifecycle"] == "loyal", loyal
        assert loyal["segment"]["spend"] == "mid"  # mid-rank 0.75 of two spenders
        assert loyal["items"][0]["item_id"] == "bag-1"
        assert loyal["items"][0]["because"]["rule_id"] == rule_id
        assert loyal["segment"].get("attributes") == {"location": "HN"}
        bus.send("cart-events", "u1", add(301, "u1", "phone-1"))
        (returning,) = bus.collect("suggestions", 1)
        # u1's one order had no prices: spend 0, below fan's 45
        assert returning["segment"] == {"lifecycle": "returning", "spend": "low"}, returning
        assert all("rule_id" not in (i["because"] or {}) for i in returning["items"])
    finally:
        bus.close()


def test_the_state_oracle_expects_the_segments_streaming_leaves(
    make_settings: Callable[..., Settings],
) -> None:
    """xsell chaos and the outage runs compare every model key with BatchTruth: the segment
    hashes and the histogram included, to the last digit (spends are whole hundredths)."""
    settings = make_settings(half_life_days=0)
    rng = random.Random(3)
    orders = [
        PurchaseEvent(
            f"t{n}",
            f"t{n}",
            f"u{rng.randrange(12)}" if rng.random() < 0.9 else None,
            1_700_000_000.0 + n,
            tuple(
                OrderLine(f"i{rng.randrange(20)}", rng.randrange(1, 4), round(rng.random() * 90, 2))
                for _ in range(rng.randrange(1, 5))
            ),
        )
        for n in range(150)
    ]

    async def go() -> None:
        store = await Store.open(settings)
        try:
            for lo in range(0, len(orders), 40):
                await store.apply(orders[lo : lo + 40])
            diff = await BatchTruth(orders, settings.learning.max_items_per_order).compare(store)
            assert diff.total == 0, diff.examples
            assert await store.client.hlen(store.keys.spend_histogram) > 3
        finally:
            await store.close()

    run(go())
