"""Merged per-batch scripts against a real redis-server (xsell/store/core/batching.py): a
micro-batch's pairs in one call give the very state (every weight to the last bit, pruning,
landmarks, markers, done keys) that the events give one APPLY_PAIRS call at a time, with far
fewer commands; a cart's events in one call answer and write as CART_UPDATE one by one."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers import run
from xsell.config.settings import Settings
from xsell.models.bundles import bundle_id
from xsell.models.events import CartEvent, OrderLine, PurchaseEvent
from xsell.store import Store
from xsell.store.attribution.bundles import bundle_shown_call
from xsell.store.attribution.ledger import Earned, day_of
from xsell.store.backend.client import Call
from xsell.store.core.batching import plan, run_merged
from xsell.store.core.keys import Signal, Stream
from xsell.store.core.pair_batch import APPLY_PAIRS_BATCH, merge_pair_calls

pytestmark = pytest.mark.integration
NOW = 10**13


def _events(rng: random.Random, n: int) -> list[tuple[str, float, str, list[str], float]]:
    """(event id, ts, mode, items, base): carts (star: the new item and its cart) and orders
    (all), over few items so that they share zsets, with repeats (a duplicate send)."""
    items = [f"i{k}" for k in range(14)]
    out = []
    ts = 1_000.0
    for k in range(n):
        ts += rng.choice([1.0, 7.5, 400.0])  # long gaps move the landmarks (short half-life)
        size = rng.randint(2, 7)
        chosen = rng.sample(items, size)
        mode = rng.choice(["star", "all"])
        out.append((f"e{k}", ts, mode, chosen, 0.25 if mode == "star" else 1.0))
        if rng.random() < 0.1:
            out.append(out[-1])  # the same event again in the batch
    return out


def _calls(store: Store, events: list[tuple[str, float, str, list[str], float]]) -> list[Call]:
    calls: list[Call] = []
    for eid, ts, mode, items, base in events:
        signal = Signal.CO_ADD if mode == "star" else Signal.PURCHASE
        stream = Stream.CART if mode == "star" else Stream.ORDERS
        calls += store.calls.pair_calls(
            eid, ts, stream, base, mode, items, items, NOW, signal=signal
        )
    return calls


async def raw_state(store: Store) -> dict[str, Any]:
    """Every key of the namespace, bookkeeping and outputs included (dump_state leaves those
    out), with whether it has a lifetime."""
    state: dict[str, Any] = {}
    async for key in store.client.scan_iter(match=store.keys.pattern(), count=1000):
        kind = await store.client.type(key)
        if kind == "zset":
            value: Any = dict(await store.client.zrange(key, 0, -1, withscores=True))
        elif kind == "hash":
            value = await store.client.hgetall(key)
        else:
            value = await store.client.get(key)
        state[key] = [value, await store.client.ttl(key) > 0]
    return state


def _stripped(state: dict[str, Any], settings: Settings) -> dict[str, Any]:
    ns = settings.redis.key_namespace
    return {k[len(ns) :]: v for k, v in state.items()}


async def _commands(store: Store) -> int:
    return int((await store.client.info("stats"))["total_commands_processed"])


@pytest.mark.parametrize(
    ("seed", "overrides", "fewer"),
    [
        (1, {"max_neighbors": 4, "half_life_days": 0.0005}, 1.2),  # prunes often, rescales
        (2, {"max_neighbors": 4, "half_life_days": 0.0005}, 1.2),
        (3, {"max_neighbors": 200, "half_life_days": 30.0}, 3.0),  # as the defaults do
    ],
)
def test_a_batch_gives_the_state_of_its_events_one_by_one(
    make_settings: Callable[..., Settings], seed: int, overrides: dict[str, Any], fewer: float
) -> None:
    one, batched = make_settings(**overrides), make_settings(**overrides)
    events = _events(random.Random(seed), 120)

    async def go() -> None:
        a, b = await Store.open(one), await Store.open(batched)
        try:
            await a.runner.run([("SET", a.keys.done(Stream.ORDERS, "e3"), "1")])  # done before
            await b.runner.run([("SET", b.keys.done(Stream.ORDERS, "e3"), "1")])
            before = await _commands(a)
            for call in _calls(a, events):
                await a.runner.run([call])
            singles = await _commands(a) - before - len(_calls(a, events))
            before = await _commands(b)
            chunks = [events[k : k + 25] for k in range(0, len(events), 25)]
            for chunk in chunks:
                merged = [merge_pair_calls(_calls(b, chunk))]
                assert len(merged) == 1 and merged[0][0] is APPLY_PAIRS_BATCH
                await b.runner.run(merged)
            batched_commands = await _commands(b) - before - len(chunks)
            left, right = await raw_state(a), await raw_state(b)
            assert _stripped(left, one) == _stripped(right, batched)
            assert any(k.endswith(":h") for k in left)  # landmarks were written
            assert batched_commands * fewer < singles, (batched_commands, singles)
        finally:
            await a.close()
            await b.close()

    run(go())


def test_a_redelivered_batch_changes_nothing(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(max_neighbors=3)
    events = _events(random.Random(7), 30)

    async def go() -> None:
        store = await Store.open(settings)
        try:
            merged = [merge_pair_calls(_calls(store, events))]
            applied = (await store.runner.run(merged))[0]
            assert applied == len({e[0] for e in events})
            state = await raw_state(store)
            assert (await store.runner.run(merged))[0] == 0
            assert await raw_state(store) == state
        finally:
            await store.close()

    run(go())


def _unordered(answer: Any) -> tuple[int, list[tuple[str, str]]]:
    """A cart answer with its cart as sorted (item, ts) pairs: the hash's order is Redis'."""
    pair, flat = answer
    return int(pair), sorted(zip(flat[::2], flat[1::2], strict=True))


def test_a_carts_events_in_one_call_answer_and_write_as_one_by_one(
    make_settings: Callable[..., Settings],
) -> None:
    """CART_UPDATES: the same answers (pair flag, cart before) and the same carts, lifetimes
    included, as CART_UPDATE event by event; a small cap drops the oldest items."""
    one, batched = make_settings(max_cart_items=4), make_settings(max_cart_items=4)
    rng = random.Random(5)
    events = []
    for k in range(80):
        user, item = rng.choice(["u1", "u2"]), rng.choice("abcdefg")
        kind = "remove_from_cart" if rng.random() < 0.25 else "add_to_cart"
        events.append(CartEvent(f"c{k}", kind, user, item, 1000.0 + k // 3))
    events.append(events[10])  # a redelivery inside the batch

    async def go() -> None:
        a, b = await Store.open(one), await Store.open(batched)
        try:
            singles = [(await a.runner.run(a.calls.event_calls(e, NOW)))[0] for e in events]
            calls = [c for e in events for c in b.calls.event_calls(e, NOW)]
            merged, _ = plan(calls)
            assert len(merged) == 2  # one call per cart
            answers = await run_merged(b.runner, calls)
            assert list(map(_unordered, answers)) == list(map(_unordered, singles))
            left, right = await raw_state(a), await raw_state(b)
            assert _stripped(left, one) == _stripped(right, batched) and left
            for user in ("u1", "u2"):
                assert await b.client.ttl(b.keys.cart(user)) > 0
        finally:
            await a.close()
            await b.close()

    run(go())


def _pid(answer: str) -> str | None:
    """The pseudonym in a ledger answer (a remove that earned nothing has none)."""
    return json.loads(answer).get("pid")


def test_a_ledgers_events_in_one_call_answer_and_write_as_one_by_one(
    make_settings: Callable[..., Settings],
) -> None:
    """ATTRIBUTE_MANY: after the same offers and bundles shown, a user's adds, removes and
    purchases (accepted offers, repeats, a redelivered event, explicit suggestion ids,
    cannibalized acceptances, bundles carried whole or in part) give the same answers and the
    same ledger as ATTRIBUTE event by event."""
    one, batched = make_settings(), make_settings()
    rng = random.Random(16)
    offers = [
        {
            "suggestion_id": f"s{k}",
            "user_id": "u1",
            "placement": "cart",
            "variant": "control",
            "trigger": {"item_ids": rng.sample("abcdefg", rng.choice([1, 2]))},
            "segment": {"lifecycle": "returning", "spend": "low" if k % 2 else None},
            "items": [  # a and c placed by a merchant rule: credited to it too
                {"item_id": i, "because": {"rule_id": "r7"} if i in "ac" else None}
                for i in rng.sample("abcdef", 3)
            ],
        }
        for k in range(6)
    ]
    whole, part = bundle_id(["a", "b", "c"]), bundle_id(["d", "e", "f"])
    events: list[Any] = []
    for k in range(60):
        item = rng.choice("abcdefg")
        roll = rng.random()
        if roll < 0.55:
            events.append(CartEvent(f"a{k}", "add_to_cart", "u1", item, 1010.0 + k, None))
        elif roll < 0.9:
            events.append(CartEvent(f"r{k}", "remove_from_cart", "u1", item, 1010.0 + k, None))
        else:
            sid = rng.choice(["", "s2", "s9"]) or None
            lines = [OrderLine(item, quantity=2, price=3.5, suggestion_id=sid)]
            if rng.random() < 0.5:
                lines += [OrderLine(i, price=2.0, bundle_id=whole) for i in "abc"]
                lines += [OrderLine("d", price=1.0, bundle_id=part)]
            events.append(PurchaseEvent(f"p{k}", f"o{k}", "u1", 1010.0 + k, tuple(lines)))
    events.append(events[3])

    async def go() -> None:
        a, b = await Store.open(one), await Store.open(batched)
        try:
            for store in (a, b):
                assert store.ledger is not None
                for call in store.ledger.offer_calls(
                    offers, [1000.0 + k for k in range(6)]
                ).values():
                    await store.runner.run([call])
                for bid in (whole, part):
                    answer = {"bundle_id": bid, "list_price": 6.0, "bundle_price": 5.4}
                    shown = bundle_shown_call(
                        store.keys, answer, "u1", "control", 1001.0, 86400.0, 5000
                    )
                    await store.runner.run([shown])
            assert a.ledger is not None and b.ledger is not None
            singles = [(await a.runner.run([a.ledger.ledger_call(e)]))[0] for e in events]
            calls = [b.ledger.ledger_call(e) for e in events]
            merged, _ = plan(calls)
            assert len(merged) == 1
            answers = await run_merged(b.runner, calls)
            # the pseudonym hashes the ledger's key, which holds the namespace
            pa, pb = (next(p for p in map(_pid, got) if p) for got in (singles, answers))
            assert [x.replace(pb, pa) for x in answers] == singles
            for counter in ("accepted", "cannibalized", "bundle_full", "bundle_partial"):
                assert any(f'"{counter}"' in s for s in singles), counter
            assert any('"rule:r7"' in s for s in singles)
            assert any('"seg:returning"' in s for s in singles)
            assert any('"spend:low"' in s for s in singles)
            left, right = await raw_state(a), await raw_state(b)
            same = json.loads(json.dumps(_stripped(right, batched)).replace(pb, pa))
            assert _stripped(left, one) == same
        finally:
            await a.close()
            await b.close()

    run(go())


def test_a_days_counts_in_one_call_answer_and_write_as_one_by_one(
    make_settings: Callable[..., Settings],
) -> None:
    """COUNT_MANY: repeated markers, markers already on the guards (alive and past their
    until), counters and per-user rows give the same answers, sums, markers and lifetimes as
    COUNT call by call."""
    one, batched = make_settings(), make_settings()
    rng = random.Random(3)
    now = 10**12

    def calls_of(store: Store) -> list[Call]:
        assert store.ledger is not None
        out: list[Call] = []
        for k in range(60):
            earned = Earned(None)
            earned.add(f"cart\0control\0n{k % 3}", rng.choice([1.0, 2.0, 0.1, 7.25]))
            earned.add("cart\0control\0whole", rng.choice([1.0, 3.0]))
            if k % 4 == 0:
                earned.revenue[f"control\0pid{k % 5}"] = rng.choice([None, 3.3])
            marker = f"s:{rng.randint(0, 45)}"
            call = store.ledger.count_call(marker, 1_700_000_000.0, earned, now, now + 5000)
            assert call is not None
            out.append(call)
        return out

    async def go() -> None:
        a, b = await Store.open(one), await Store.open(batched)
        try:
            for store in (a, b):
                guard = store.keys.day(day_of(1_700_000_000.0))[2]
                await store.client.zadd(guard, {"s:1": now + 10, "s:2": now - 10, "s:3": now})
            state = rng.getstate()
            singles = [(await a.runner.run([c]))[0] for c in calls_of(a)]
            rng.setstate(state)
            calls = calls_of(b)
            assert len(plan(calls)[0]) == 1
            assert await run_merged(b.runner, calls) == singles
            assert 0 in singles and 1 in singles
            day = a.keys.day(day_of(1_700_000_000.0))[0]
            assert float(await a.client.hget(day, "cart\0control\0whole")) > 3
            left, right = await raw_state(a), await raw_state(b)
            assert _stripped(left, one) == _stripped(right, batched)
            for store in (a, b):
                for key in store.keys.day(day_of(1_700_000_000.0)):
                    assert await store.client.pttl(key) > 0
        finally:
            await a.close()
            await b.close()

    run(go())
