"""Running hostile input (:mod:`xsell.verify.hostile_cases`) and checking what it left behind.

``run_local`` feeds the cases through the worker's own batch handler (parse, dead letter, Lua,
ranking) against Redis, in a throw-away namespace, then applies only the valid cases to a second
namespace and compares: the first must hold exactly the keys (and values) of the second and
every key must follow the layout of :mod:`xsell.store.core.keys`. ``send_cases`` sends the cases to
the Kafka topics instead, for a running worker (``tests/integration/test_hostile.py``).
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from xsell.config.settings import Settings
from xsell.engine import Engine, suggestion_id
from xsell.kafka_clients import producer
from xsell.models.errors import InvalidEvent
from xsell.models.events import CartEvent, Event, Limits, PurchaseEvent
from xsell.models.validate import parse_record
from xsell.store import Store, Stream
from xsell.streams.handler import BatchHandler, Output, Record
from xsell.verify.hostile_cases import Case

SUFFIXES: dict[str, set[str | None]] = {
    # v: co-view counts (core/views.py); f, fr, fh: followed-by (core/followed.py)
    "i": {"p", "c", "h", "m", "v", "f", "fr", "fh"},
    # fw: followed-by window, fm: its answers until the batch's commit (core/follow_lua.py);
    # seg, m: segment counters and their guards (core/segments.py)
    "u": {"cart", "hist", "view", "sug", "att", "atz", "fw", "fm", "seg", "m"},
    # guards and positions: core/guards.py; spend, ms: the spend histogram and its guards
    "g": {"pop", "meta", "cat", "m", "mp", "pos", "spend", "ms"},
    "r": {"c", "u", "m"},  # a day's aggregates (xsell/store/attribution/ledger.py)
    "t": {None},  # a minute's worker figures
}
MAX_REQUEST_BYTES = 16 << 20  # the test producer's limit: lets megabyte records reach the worker


def limits(settings: Settings) -> Limits:
    return settings.limits


def layout_error(ns: str, key: str) -> str | None:
    """Why ``key`` is not a key of the layout in namespace ``ns`` (None when it is)."""
    category = re.fullmatch(re.escape(ns) + r":\{k\}:(?:m|([^{}]+):([xh]))", key)
    if category is not None:  # a category's counts (escaped name, then x or h) or the guards
        return None
    match = re.fullmatch(re.escape(ns) + r":\{([iugert])(?::([^{}]*))?\}(?::([a-z]+))?", key)
    if match is None:
        return "not NS:{tag}[:suffix]"
    kind, ident, suffix = match.groups()
    if kind == "e":
        return None if suffix is None and ident else "bad done marker"
    if (kind == "g") != (ident is None):
        return "bad tag"
    return None if suffix in SUFFIXES[kind] else f"unknown suffix {suffix!r}"


def timing_dependent(key: str) -> bool:
    """Category counts (``{k}`` keys, namespace stripped) count an order under the category
    the catalogue held for each item when the order was applied. Catalogue updates and orders
    arrive on different topics, with no order between them, so which category an order saw
    depends on timing (and on batch boundaries): these keys are checked by their layout here,
    and exactly-once by tests/integration/test_categories.py, not compared with a reference."""
    return key.startswith(":{k}:")


def comparable(state: dict[str, Any]) -> dict[str, Any]:
    """``state`` without its timing-dependent keys (:func:`timing_dependent`)."""
    return {k: v for k, v in state.items() if not timing_dependent(k)}


def expected_suggestions(events: Sequence[Event]) -> set[str]:
    """Suggestion ids the worker must emit for valid ``events`` (one per trigger)."""
    ids = set()
    for e in events:
        if isinstance(e, CartEvent) and e.type == "add_to_cart":
            ids.add(suggestion_id(Stream.CART, e.event_id))
        elif isinstance(e, PurchaseEvent):
            ids.add(suggestion_id(Stream.ORDERS, e.event_id))
    return ids


def valid_events(cases: Sequence[Case], settings: Settings) -> list[tuple[str, Event]]:
    """(stream, event) of the valid cases, in order."""
    lim = limits(settings)
    return [(c.stream, parse_record(c.stream, c.value, lim)) for c in cases if c.valid]


async def dump(store: Store) -> dict[str, Any]:
    """Every key of the namespace (without the namespace) -> value; markers -> members only
    (their scores are wall-clock times); published outputs (latest suggestions) left out."""
    return await store.ops.dump()


def _chunks(cases: Sequence[Case], size: int) -> list[dict[str, list[tuple[int, Case]]]]:
    """Consecutive chunks of ``size`` cases, split by stream (order kept within a stream)."""
    chunks = []
    for start in range(0, len(cases), size):
        by_stream: dict[str, list[tuple[int, Case]]] = {}
        for index in range(start, min(start + size, len(cases))):
            by_stream.setdefault(cases[index].stream, []).append((index, cases[index]))
        chunks.append(by_stream)
    return chunks


async def run_local(
    settings: Settings, cases: Sequence[Case], *, batch: int = 200, keep: bool = False
) -> dict[str, Any]:
    """Feed ``cases`` through the batch handler against Redis; the figures (see module doc).
    Uses the namespaces ``key_namespace`` and ``key_namespace + "-ref"``, flushed before
    and (unless ``keep``) after."""
    ref_settings = replace_ns(settings, settings.redis.key_namespace + "-ref")
    store, ref = await Store.open(settings), await Store.open(ref_settings)
    try:
        await store.flush_namespace()
        await ref.flush_namespace()
        engine, lim = Engine(store, settings), limits(settings)
        handlers = {s: BatchHandler(engine, s, lim) for s in ("orders", "cart-events", "catalog")}
        started = time.monotonic()
        dead: dict[int, str] = {}
        out_all = Output()
        crashes = 0
        for chunk in _chunks(cases, batch):
            for stream, items in chunk.items():
                records = [
                    Record(settings.topic(stream), 0, index, case.value) for index, case in items
                ]
                try:
                    out = await handlers[stream].handle(records)
                except Exception:  # what would crash a worker's agent
                    crashes += 1
                    continue
                dead.update((d["offset"], d["error"]) for d in out.dead_letters)
                out_all.suggestions.extend(out.suggestions)
        seconds = time.monotonic() - started
        valid = valid_events(cases, settings)
        for chunk in _chunks([c for c in cases if c.valid], batch):
            for stream, items in chunk.items():
                await ref.apply([parse_record(stream, c.value, lim) for _, c in items])
        state, ref_state = await dump(store), await dump(ref)
        figures = _figures(settings, cases, dead, out_all, crashes, valid, state, ref_state)
        figures["seconds"] = round(seconds, 2)
        figures["records_per_second"] = round(len(cases) / seconds) if seconds else 0
        return figures
    finally:
        if not keep:
            await store.flush_namespace()
            await ref.flush_namespace()
        await store.close()
        await ref.close()


def passed(result: dict[str, Any]) -> bool:
    """Whether a :func:`run_local` result shows every check passing."""
    return not (
        result["wrong_or_missing_reason"]
        or result["valid_dead_lettered"]
        or result["internal_errors"]
        or result["crashes"]
        or result["missing_suggestions"]
        or result["garbage_keys"]
        or result["missing_keys"]
        or result["values_differ"]
        or result["layout_violations"]
    )


def replace_ns(settings: Settings, namespace: str) -> Settings:
    return settings.model_copy(update={"key_namespace": namespace})


def _figures(
    settings: Settings,
    cases: Sequence[Case],
    dead: dict[int, str],
    out: Output,
    crashes: int,
    valid: list[tuple[str, Event]],
    state: dict[str, Any],
    ref_state: dict[str, Any],
) -> dict[str, Any]:
    wrong = Counter(
        c.kind for i, c in enumerate(cases) if not c.valid and not c.matches(dead.get(i, ""))
    )
    valid_dead = Counter(c.kind for i, c in enumerate(cases) if c.valid and i in dead)
    sug = {v["suggestion_id"] for _, v in out.suggestions if v is not None}
    ns = settings.redis.key_namespace
    violations = [k for k in state if layout_error(ns, ns + k)]
    state, ref_state = comparable(state), comparable(ref_state)
    return {
        "cases": len(cases),
        "bad": sum(not c.valid for c in cases),
        "valid": sum(c.valid for c in cases),
        "bytes": sum(len(c.value or b"") for c in cases),
        "dead_letters": len(dead),
        "wrong_or_missing_reason": dict(wrong),
        "valid_dead_lettered": dict(valid_dead),
        "internal_errors": sum(
            r.startswith(("internal error", "unparseable")) for r in dead.values()
        ),
        "crashes": crashes,
        "suggestions": len(sug),
        "missing_suggestions": len(expected_suggestions([e for _, e in valid]) - sug),
        "tombstones": sum(v is None for _, v in out.suggestions),
        "keys": len(state),
        "garbage_keys": sorted(set(state) - set(ref_state))[:20],
        "missing_keys": sorted(set(ref_state) - set(state))[:20],
        "values_differ": sum(state[k] != ref_state[k] for k in set(state) & set(ref_state)),
        "layout_violations": violations[:20],
        "by_kind": dict(sorted(Counter(c.kind for c in cases).items())),
    }


def send_cases(settings: Settings, cases: Sequence[Case]) -> list[tuple[int, int]]:
    """Send ``cases`` to their topics (key = the case's key); (partition, offset) of each."""
    prod = producer(settings, max_request_size=MAX_REQUEST_BYTES, linger_ms=20)
    try:
        futures = [
            prod.send(
                settings.topic(c.stream),
                key=None if c.key is None else c.key.encode(),
                value=c.value,
            )
            for c in cases
        ]
        prod.flush()
        metas = [f.get(60) for f in futures]
        return [(int(m.partition), int(m.offset)) for m in metas]
    finally:
        prod.close()


def check_parse(cases: Sequence[Case], settings: Settings) -> list[str]:
    """Cases whose parse outcome differs from their expectation (a generator self-check)."""
    lim, wrong = limits(settings), []
    for n, c in enumerate(cases):
        try:
            parse_record(c.stream, c.value, lim)
            if not c.valid:
                wrong.append(f"{n} {c.kind}: accepted")
        except InvalidEvent as exc:
            if not c.matches(exc.reason):
                wrong.append(f"{n} {c.kind}: {exc.reason[:80]}")
    return wrong
