"""Exactly-once with bounded memory (xsell/store/core/guards.py), on a real redis-server: every
idempotency key lives at most the dedup horizon (done keys) or the window after its batch's
commit (guard markers); a batch that died half-way and is redelivered after the horizon
counts once; positions make any later redelivery a no-op; a recreated topic's records
(offset 0 again, recent) are applied; a history load repeated after the horizon counts once."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers import dump_state, run
from xsell.config.settings import Settings
from xsell.models.events import CartEvent, CatalogItem, Event, OrderLine, PurchaseEvent
from xsell.ops.loading import backfill
from xsell.store import Position, Store

pytestmark = pytest.mark.integration

HORIZON, WINDOW = 120, 30  # seconds


def _events(ts: float) -> list[Event]:
    """Carts with co-adds, purchases (pairs, popularity, histories) and a catalogue item."""
    out: list[Event] = [CatalogItem(item_id="a", category="x", price=2.0)]
    for n, items in enumerate([["a", "b", "c"], ["b", "d"], ["a", "c", "d"]]):
        user = f"u{n % 2}"
        out += [
            CartEvent(f"c{n}-{i}", "add_to_cart", user, item, ts + i)
            for i, item in enumerate(items)
        ]
        lines = tuple(OrderLine(i, price=1.5) for i in items)
        out.append(PurchaseEvent(f"p{n}", f"o{n}", user, ts + 10, lines))
    return out


def _positions(events: list[Event], ts: float | None, source: str = "t:0") -> list[Position | None]:
    return [Position(source, offset, ts) for offset in range(len(events))]


async def _done_keys(store: Store) -> list[str]:
    return [k async for k in store.client.scan_iter(match=f"{store.keys.ns}:{{e:*")]


def _settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(dedup_horizon_seconds=HORIZON, dedup_window_seconds=WINDOW)


def test_idempotency_keys_live_at_most_the_horizon_or_the_window(
    make_settings: Callable[..., Settings],
) -> None:
    settings = _settings(make_settings)
    assert settings.learning.dedup_horizon_seconds == HORIZON
    assert settings.feedback.attribution  # the report's day markers are guards too

    async def go(store: Store) -> None:
        events = _events(time.time())
        await store.apply(events, positions=_positions(events, time.time()))
        now_ms = time.time() * 1000
        done = await _done_keys(store)
        assert len(done) == len(events) - 1  # all but the catalogue item
        for key in done:
            assert 0 < await store.client.pttl(key) <= HORIZON * 1000
        k = store.keys
        guards = [k.global_markers, k.pair_guards]
        guards += [key async for key in store.client.scan_iter(match=f"{k.ns}:{{r:*}}:m")]
        assert len(guards) >= 3
        for key in guards:
            markers = await store.client.zrange(key, 0, -1, withscores=True)
            assert markers, key
            # committed: kept for the window, no longer
            assert all(until <= now_ms + WINDOW * 1000 for _, until in markers), key
        for key in guards[2:]:  # a report day's markers key lives as long as its latest
            assert 0 < await store.client.pttl(key) <= WINDOW * 1000
        pending = settings.learning.dedup_pending_seconds * 1000
        for key in guards[:2]:
            assert 0 < await store.client.pttl(key) <= pending
        assert await store.client.hgetall(k.positions) == {"t:0": str(len(events) - 1)}

    run(_with_store(settings, go))


def test_a_half_applied_batch_redelivered_after_the_horizon_counts_once(
    make_settings: Callable[..., Settings],
) -> None:
    """The worker died after the batch's second round trip; it comes back when the done keys
    have expired: the pending guard markers (not the done keys) keep it from counting twice."""
    reference, crashed = _settings(make_settings), _settings(make_settings)
    old = time.time() - 10 * HORIZON
    events = _events(old)

    async def once(store: Store) -> dict[str, Any]:
        await store.apply(events, positions=_positions(events, old))
        return await dump_state(store)

    async def crash_then_redeliver(store: Store) -> dict[str, Any]:
        now_ms = int(time.time() * 1000)
        half = [c for e in events for c in store.calls.event_calls(e, now_ms)]
        await store.runner.run(half)  # carts, histories, popularity, purchase pairs; no commit
        await store.client.delete(*await _done_keys(store))  # the horizon passed
        effects = await store.apply(events, positions=_positions(events, old))
        assert not any(e.duplicate for e in effects)  # nothing committed: all redone, guarded
        state = await dump_state(store)
        await store.client.delete(*await _done_keys(store))  # the horizon passed again
        again = await store.apply(events, positions=_positions(events, old))
        assert all(e.duplicate for e in again)  # at or below the position, older: redelivery
        assert await dump_state(store) == state
        return state

    want = run(_with_store(reference, once))
    got = run(_with_store(crashed, crash_then_redeliver))
    assert _strip(got, crashed) == _strip(want, reference)


def test_a_recreated_topic_is_new_input_but_old_records_are_redeliveries(
    make_settings: Callable[..., Settings],
) -> None:
    settings = _settings(make_settings)

    async def go(store: Store) -> None:
        first = _events(time.time())
        await store.apply(first, positions=[Position("t:0", 100 + i) for i in range(len(first))])
        # the broker lost its log: offsets start again at 0, the records are recent
        fresh = [PurchaseEvent("n1", "on1", "u9", time.time(), (OrderLine("a"), OrderLine("z")))]
        effects = await store.apply(fresh, positions=[Position("t:0", 0, time.time())])
        assert not effects[0].duplicate
        assert await store.client.zscore(store.keys.item("z").pairs, "a") == 1.0
        # an old record at or below the position without its done key: a redelivery
        stale = [PurchaseEvent("n2", "on2", "u9", 1.0, (OrderLine("a"), OrderLine("y")))]
        old = time.time() - 2 * HORIZON
        effects = await store.apply(stale, positions=[Position("t:0", 1, old)])
        assert effects[0].duplicate
        assert await store.client.exists(store.keys.item("y").pairs) == 0

    run(_with_store(settings, go))


def test_a_history_load_repeated_after_the_horizon_counts_once(
    make_settings: Callable[..., Settings],
) -> None:
    settings = _settings(make_settings)
    orders = [e for e in _events(1000.0) if isinstance(e, PurchaseEvent)]

    async def go(store: Store) -> None:
        first = await backfill(store, orders)
        state = await dump_state(store)
        await store.client.delete(*await _done_keys(store))  # the horizon passed
        again = await backfill(store, orders, batch=2)
        assert (first.applied, again.applied, again.duplicates) == (3, 0, 3)
        assert await dump_state(store) == state

    run(_with_store(settings, go))


async def _with_store(settings: Settings, fn: Callable[[Store], Any]) -> Any:
    store = await Store.open(settings)
    try:
        return await fn(store)
    finally:
        await store.close()


def _strip(state: dict[str, Any], settings: Settings) -> dict[str, Any]:
    ns = settings.redis.key_namespace
    return {k[len(ns) :]: v for k, v in state.items()}
