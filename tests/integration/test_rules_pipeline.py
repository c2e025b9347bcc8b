"""Merchant rules on the worker and in the store (docs/rules.md): a suggestion published after
a rule is saved obeys it and carries the rules' version; the store's room on a real Redis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from tests.conftest import Pipeline
from tests.helpers import Bus, run
from tests.integration.test_pipeline import add, load_shop
from xsell.config.settings import Settings
from xsell.engine.steering import Steering
from xsell.models.messages.merchant import Rule
from xsell.store import RulesFull, Store, is_bulk_loadable

pytestmark = pytest.mark.integration

RULE = Rule.model_validate(
    {
        "name": "phones: bags first, no cases",
        "priority": 5,
        "when": {"placements": ["cart"], "categories": ["phone"]},
        "then": {"pin": ["bag-1"], "hide": ["case-1"]},
    }
)


def save(settings: Settings, rule: Rule) -> tuple[str, int]:
    async def go() -> tuple[str, int]:
        store = await Store.open(settings)
        try:
            return await store.rules.add(rule)
        finally:
            await store.close()

    return run(go())


def test_a_suggestion_after_a_rule_obeys_it(pipeline: Pipeline) -> None:
    bus = Bus(pipeline.settings)
    try:
        load_shop(pipeline, bus)
        bus.send("cart-events", "u1", add(1, "u1", "phone-1"))
        (before,) = bus.collect("suggestions", 1)
        assert before["items"][0]["item_id"] == "case-1"
        assert before["rules_version"] == 0
        rule_id, version = save(pipeline.settings, RULE)
        time.sleep(1.0)  # the contract: ranked 1 s after the save (XSELL_RULES_REFRESH_SECONDS 0.5)
        bus.send("cart-events", "u2", add(2, "u2", "phone-1"))
        (after,) = bus.collect("suggestions", 1)
        items = [i["item_id"] for i in after["items"]]
        assert items[0] == "bag-1" and "case-1" not in items, after
        assert after["items"][0]["because"]["rule_id"] == rule_id
        assert after["rules_version"] == version == 1
        # a purchase is another placement: the cart rule does not apply
        bus.send("orders", "u3", {**_order(), "user_id": "u3"})
        (post,) = bus.collect("suggestions", 1)
        assert post["placement"] == "post_purchase" and post["rules_version"] == 1
        assert all("rule_id" not in (i["because"] or {}) for i in post["items"])
    finally:
        bus.close()


def _order() -> dict[str, object]:
    return {
        "event_id": "p-rules",
        "type": "purchase",
        "order_id": "o-rules",
        "ts": 1_700_000_500.0,
        "items": [{"item_id": "phone-1"}],
    }


def test_the_store_room_counts_versions_and_the_limit(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(rules_max=2)

    async def go() -> None:
        store = await Store.open(settings)
        try:
            assert await store.rules.version() == 0
            assert (await store.rules.read()).rules == ()
            first, v1 = await store.rules.add(RULE)
            second, v2 = await store.rules.add(RULE)
            assert (v1, v2) == (1, 2) and first != second
            assert (await is_bulk_loadable(store))[0]  # rules may come before a bulk load
            with pytest.raises(RulesFull):
                await store.rules.add(RULE)
            assert await store.rules.version() == 2  # a refused add changes nothing
            changed = Rule.model_validate({**RULE.model_dump(mode="json"), "priority": 9})
            assert await store.rules.put(first, changed) == 3
            assert await store.rules.put("rule-nope", changed) is None
            got = await store.rules.get(first)
            assert got is not None and got.priority == 9 and got.rule_id == first
            assert await store.rules.delete(second) == 4
            assert await store.rules.delete(second) is None
            now = await store.rules.read()
            assert now.version == 4 and [r.rule_id for r in now.rules] == [first]
        finally:
            await store.close()

    run(go())


def test_each_process_rereads_the_rules_at_most_every_refresh_interval(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(rules_refresh_seconds=0.3)

    async def go() -> None:
        store = await Store.open(settings)
        try:
            steering = Steering(store, settings)
            assert (await steering.refresh()).version == 0
            rule_id, _ = await store.rules.add(RULE)
            assert (await steering.refresh()).version == 0  # looked 0 s ago: not again yet
            await asyncio.sleep(0.35)
            seen = await steering.refresh()
            assert seen.version == 1 and [r.rule_id for r in seen.rules] == [rule_id]
            assert steering.book.rules == seen.rules  # the book follows the version
            await store.rules.delete(rule_id)
            await asyncio.sleep(0.35)
            assert (await steering.refresh()).rules == ()
        finally:
            await store.close()

    run(go())
