"""Concurrent lanes of a micro-batch (XSELL_LANES) against a real redis-server: the same
state as one lane, messages in event order, and a failing lane waited for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from config.settings import Settings
from models.events import CartEvent, Event, OrderLine, PurchaseEvent
from tests.helpers import dump_state, run
from xsell.engine import Engine
from xsell.store.store import Store

pytestmark = pytest.mark.integration


def history() -> list[Event]:
    """Orders that give every shop its pairs (shop s sells s0..s5)."""
    return [PurchaseEvent(f"h{s}{n}", f"o{s}{n}", None, 10.0 + n,
                          tuple(OrderLine(f"{s}{(n + j) % 6}") for j in range(3)))
            for s in "abcd" for n in range(6)]


def interleaved() -> list[Event]:
    """Four users, each shopping in a shop of their own, their events interleaved."""
    events: list[Event] = []
    for n in range(5):
        for s in "abcd":
            events.append(CartEvent(f"c{s}{n}", "add_to_cart", f"u{s}", f"{s}{n}", 100.0 + n))
    events += [PurchaseEvent(f"p{s}", f"q{s}", f"u{s}", 200.0,
                             tuple(OrderLine(f"{s}{n}") for n in range(5))) for s in "abcd"]
    return events


async def _run(settings: Settings) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    store = await Store.open(settings)
    try:
        engine = Engine(store, settings)
        await engine.process(history())
        messages = await engine.process(interleaved())
        return messages, await dump_state(store)
    finally:
        await store.close()


def _ns(state: dict[str, Any], settings: Settings) -> dict[str, Any]:
    return {k.removeprefix(settings.key_namespace): v for k, v in state.items()}


def test_lanes_give_the_state_and_messages_of_one_lane(
        make_settings: Callable[..., Settings]) -> None:
    # no popular padding: popularity is global, and when another lane's purchases are counted
    # relative to this lane's reads is up to timing (as across Kafka partitions)
    one = make_settings(lanes=1, popular_fallback=False)
    three = make_settings(lanes=3, popular_fallback=False)
    m1, s1 = run(_run(one))
    m3, s3 = run(_run(three))
    assert _ns(s3, three) == _ns(s1, one) and len(s1) > 20
    strip = [{k: v for k, v in m.items() if k != "created_at"} for m in m1]
    assert [{k: v for k, v in m.items() if k != "created_at"} for m in m3] == strip
    expected = [e.event_id for e in interleaved()]
    assert [m["trigger"]["event_id"] for m in m3] == expected
    assert any(m["items"] for m in m3)


def test_a_failing_lane_is_waited_for_then_raised(
        make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch) -> None:
    settings = make_settings(lanes=2)

    async def go() -> tuple[BaseException | None, list[str]]:
        store = await Store.open(settings)
        applied: list[str] = []
        real = store.apply

        async def apply(events: Any) -> Any:
            if any(e.user_id == "ua" for e in events):
                raise RuntimeError("lane a fails")
            effects = await real(events)
            applied.extend(e.event_id for e in events)
            return effects

        monkeypatch.setattr(store, "apply", apply)
        try:
            await Engine(store, settings).process(interleaved()[:8])
        except RuntimeError as exc:
            return exc, applied
        finally:
            await store.close()
        return None, applied

    error, applied = run(go())
    assert str(error) == "lane a fails"
    # lanes: (ua, uc) and (ub, ud); the second ran to its end before the error was raised
    assert sorted(applied) == sorted(f"c{s}{n}" for s in "bd" for n in range(2))
