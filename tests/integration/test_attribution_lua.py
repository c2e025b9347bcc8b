"""The ledger scripts (xsell/store/attribution/lua.py) give exactly what the reference rules
(models/attribution.py) give, on random histories of offers, adds, removes and purchases; and a
redelivered event answers what it earned the first time."""

from __future__ import annotations

import json
import random
from collections.abc import Callable

import pytest

from tests.helpers import run
from xsell.config.settings import Settings
from xsell.models.attribution import Ledger, on_add, on_buy, on_purchase, on_remove, record
from xsell.store import Store
from xsell.store.attribution.lua import ATTRIBUTE
from xsell.store.attribution.offers_lua import RECORD_OFFERS
from xsell.store.backend.scripts import number_arg

pytestmark = pytest.mark.integration
ITEMS = [f"i{n}" for n in range(6)]
WINDOW = 500.0


def deltas(answer: str) -> list[tuple[str, str, str, float]]:
    parsed = json.loads(answer)["deltas"]
    return [(p, v, n, float(a)) for p, v, n, a in (parsed if isinstance(parsed, list) else [])]


@pytest.mark.parametrize("seed", range(6))
def test_the_scripts_follow_the_reference(
    make_settings: Callable[..., Settings], seed: int
) -> None:
    rng = random.Random(seed)
    settings = make_settings()

    async def go() -> None:
        store = await Store.open(settings)
        keys = store.keys.ledger(f"user{seed}")
        ledger = Ledger()
        segs = random.Random(seed + 100)
        ts = 1000.0
        suggestions: list[str] = []
        seen: set[str] = set()
        try:
            for step in range(300):
                ts += rng.choice([1, 5, 30, 200])
                action = rng.random()
                if action < 0.4 or not suggestions:
                    sid = f"s{step}"
                    items = rng.sample(ITEMS, rng.randint(1, 3))
                    placement, variant = rng.choice(["cart", "post_purchase"]), rng.choice("ab")
                    offer_ts = ts - rng.choice([0, 0, 50])  # sometimes dated a bit earlier
                    # some items placed by a merchant rule: credited to it too
                    rules = {i: rng.choice(["r1", "r2"]) for i in items if rng.random() < 0.4}
                    triggers = rng.sample(ITEMS, rng.choice([0, 1, 1, 2]))
                    # the user's segment when offered (unknown now and then): credited too
                    segment = segs.choice(  # its own draws: the histories stay as they were
                        [None, ("new", ""), ("returning", "low"), ("loyal", "high")]
                    )
                    await store.runner.run(
                        [
                            (
                                RECORD_OFFERS,
                                keys,
                                [
                                    sid,
                                    number_arg(offer_ts),
                                    placement,
                                    variant,
                                    number_arg(WINDOW),
                                    str(settings.feedback.attribution_ledger_max_entries),
                                    json.dumps(triggers) if triggers else "",
                                    ",".join(segment) if segment else "",
                                    *[x for i in items for x in (i, rules.get(i, ""))],
                                ],
                            )
                        ]
                    )
                    record(
                        ledger,
                        sid,
                        offer_ts,
                        placement,
                        variant,
                        items,
                        rules,
                        triggers=triggers,
                        segment=segment,
                    )
                    suggestions.append(sid)
                    continue
                item = rng.choice(ITEMS)
                explicit = rng.choice([None, None, rng.choice(suggestions), "unknown"])
                if action < 0.75 and rng.random() < 0.4:
                    args = [
                        f"e{step}",
                        number_arg(ts),
                        number_arg(WINDOW),
                        "remove",
                        item,
                        "",
                        "0",
                    ]
                    want = on_remove(ledger, item, ts, WINDOW)
                elif action < 0.75:
                    args = [
                        f"e{step}",
                        number_arg(ts),
                        number_arg(WINDOW),
                        "add",
                        item,
                        explicit or "",
                        "0",
                    ]
                    want = on_add(ledger, item, explicit, ts, WINDOW)
                else:
                    revenue = float(rng.randint(1, 50))
                    args = [
                        f"e{step}",
                        number_arg(ts),
                        number_arg(WINDOW),
                        "buy",
                        item,
                        explicit or "",
                        number_arg(revenue),
                    ]
                    want = on_buy(ledger, item, explicit, revenue, ts, WINDOW)
                    on_purchase(ledger)
                (answer,) = await store.runner.run([(ATTRIBUTE, keys, args)])
                assert deltas(answer) == want, (step, item, explicit)
                seen.update(d[2] for d in want)
                (again,) = await store.runner.run([(ATTRIBUTE, keys, args)])  # redelivered
                assert again == answer
            assert {"accepted", "attributed_revenue"} <= seen
            assert ("cannibalized" in seen) == (seed in (0, 1, 3, 5))  # the others have no swap
        finally:
            await store.close()

    run(go())


@pytest.mark.parametrize("cap", [100, None])
def test_the_ledger_keeps_its_setting_of_entries(
    make_settings: Callable[..., Settings], cap: int | None
) -> None:
    """XSELL_ATTRIBUTION_LEDGER_MAX_ENTRIES: RECORD_OFFERS prunes a busy user's ledger to the
    newest N entries (within the window); the default (5,000) keeps all of these."""
    settings = make_settings(**({} if cap is None else {"attribution_ledger_max_entries": cap}))
    # 60 offers of 2 new items each: 5 entries each (s, 2 x, 2 o), 300 in all
    messages = [
        {
            "suggestion_id": f"s{n}",
            "user_id": "busy",
            "placement": "cart",
            "variant": "a",
            "items": [{"item_id": f"i{n}a"}, {"item_id": f"i{n}b"}],
        }
        for n in range(60)
    ]

    async def go() -> int:
        store = await Store.open(settings)
        try:
            assert store.ledger is not None
            for n, message in enumerate(messages):
                calls = store.ledger.offer_calls([message], [1000.0 + n])
                await store.runner.run(list(calls.values()))
            return int(await store.client.zcard(store.keys.ledger("busy")[1]))
        finally:
            await store.close()

    entries = run(go())
    if cap is None:
        assert entries == 300
    else:
        assert cap <= entries <= cap + 5  # pruned before each offer's own 5 entries
