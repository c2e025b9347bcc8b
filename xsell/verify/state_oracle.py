"""Batch truth of a set of orders and an entry-by-entry comparison of Redis states.

The truth is computed with numpy from the parsed orders, independently of the store: with
decay off and nothing pruned, item ``a``'s co-purchase weight with ``b`` is the number of
orders whose first ``max_items_per_order`` distinct items contain both; popularity is the
number of orders containing an item; ``N`` the number of orders; ``T`` the latest order time;
a user's history the latest purchase time per item; a user's segment their orders, total spend
(hundredths) and its bucket, and the spend histogram the users per bucket; the followed-by
follow-ups (first purchases and rebuys of a user after their earlier orders within the window)
and each user's window, replayed with :class:`xsell.models.followed.UserWindows`. Comparisons stream
key by key (bounded memory), skipping dedup markers, done markers and the meta hash's
bookkeeping fields (``created``, ``lost_at`` ...).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from xsell.config.settings.engine import LearningSettings
from xsell.models.events import PurchaseEvent
from xsell.models.followed import UserWindows
from xsell.models.rebuy import gap_seconds
from xsell.models.segments import (
    MAX_SPEND_HUNDREDTHS,
    order_spend,
    spend_bucket,
    spend_hundredths,
)
from xsell.store import Store
from xsell.store.core.keys import Keys

CHUNK = 200
EXAMPLES = 10


@dataclass
class StateDiff:
    keys: int = 0  # keys compared (union of both sides)
    entries: int = 0  # zset/hash entries compared (union of both sides)
    missing: int = 0  # expected, absent
    extra: int = 0  # present, not expected
    different: int = 0  # present on both sides with different values
    examples: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.missing + self.extra + self.different

    def note(self, text: str) -> None:
        if len(self.examples) < EXAMPLES:
            self.examples.append(text)

    def as_dict(self) -> dict[str, Any]:
        return {
            "diff": self.total,
            "keys": self.keys,
            "entries": self.entries,
            "missing": self.missing,
            "extra": self.extra,
            "different": self.different,
            "examples": self.examples,
        }


def _same(a: Any, b: Any) -> bool:
    if a == b:
        return True
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return False


def compare_value(diff: StateDiff, key: str, want: Any, got: Any) -> None:
    diff.keys += 1
    if want is None or got is None:
        if want is None and got is None:
            return
        size = (
            len(want if want is not None else got)
            if isinstance(want if want is not None else got, dict)
            else 1
        )
        diff.entries += size
        if want is None:
            diff.extra += size
            diff.note(f"unexpected key {key}")
        else:
            diff.missing += size
            diff.note(f"missing key {key}")
        return
    if not isinstance(want, dict) or not isinstance(got, dict):
        diff.entries += 1
        if not _same(want, got):
            diff.different += 1
            diff.note(f"{key}: expected {want!r}, got {got!r}")
        return
    for member in want.keys() | got.keys():
        diff.entries += 1
        if member not in got:
            diff.missing += 1
            diff.note(f"{key}[{member}] missing (expected {want[member]!r})")
        elif member not in want:
            diff.extra += 1
            diff.note(f"{key}[{member}] unexpected ({got[member]!r})")
        elif not _same(want[member], got[member]):
            diff.different += 1
            diff.note(f"{key}[{member}]: expected {want[member]!r}, got {got[member]!r}")


async def compare_stores(expected: Store, actual: Store) -> StateDiff:
    """Every model entry of two namespaces (e.g. a backfill and a streamed state)."""
    diff = StateDiff()
    suffixes = sorted(await expected.ops.model_key_names() | await actual.ops.model_key_names())
    for i in range(0, len(suffixes), CHUNK):
        chunk = suffixes[i : i + CHUNK]
        wants, gots = await expected.ops.values(chunk), await actual.ops.values(chunk)
        for suffix, want, got in zip(chunk, wants, gots, strict=True):
            compare_value(diff, suffix, want, got)
    return diff


def _follow(
    keys: Keys,
    follows: dict[str, dict[str, Any]],
    windows: UserWindows,
    order: PurchaseEvent,
    cap: int,
) -> None:
    """Count one order's follow-ups as the store does (xsell/store/core/followed.py: at most
    ``cap`` earlier items and order items), and its items' buy-again counters
    (xsell/store/core/rebuy.py)."""
    assert order.user_id is not None
    follow = windows.purchase(order.user_id, order.distinct_items(), order.ts)
    items = order.distinct_items()[:cap]
    rebuys = set(follow.rebuys)
    for b in items:
        counters = follows.setdefault(keys.item(b).followed_info, {})
        if b not in rebuys:
            counters["B"] = str(int(counters.get("B", "0")) + 1)
            continue
        counters["R"] = str(int(counters.get("R", "0")) + 1)
        counters["S"] = str(int(counters.get("S", "0")) + gap_seconds(follow.gaps[b]))
    for a in follow.earlier[:cap]:
        for b in items:
            if b != a:
                key = keys.item(a).rebuys if b in rebuys else keys.item(a).followed
                row = follows.setdefault(key, {})
                row[b] = row.get(b, 0.0) + 1.0


class BatchTruth:
    """Expected model state of ``orders`` (module doc), keyed by key suffix."""

    @classmethod
    def learnt_with(cls, orders: Iterable[PurchaseEvent], learning: LearningSettings) -> BatchTruth:
        """The truth of ``orders`` under a worker's learning settings (its pair cap and its
        followed-by window and caps): what a run's store is compared with."""
        return cls(
            orders,
            learning.max_items_per_order,
            followed_window_days=learning.followed_window_days,
            max_recent_items=learning.max_recent_items,
            max_history_items=learning.max_history_items,
        )

    def __init__(
        self,
        orders: Iterable[PurchaseEvent],
        max_items_per_order: int,
        *,
        followed_window_days: int = 30,
        max_recent_items: int = 200,
        max_history_items: int = 2000,
    ) -> None:
        keys = Keys("")
        window = followed_window_days * 86400.0
        windows = UserWindows(window, max_recent_items, max_history_items)
        follows: dict[str, dict[str, Any]] = {}
        vocab: dict[str, int] = {}
        codes: list[np.ndarray[Any, Any]] = []
        pop: dict[str, float] = {}
        hist: dict[str, dict[str, float]] = {}
        segs: dict[str, tuple[int, int]] = {}  # user -> (orders, spend in hundredths)
        self.orders, latest = 0, None
        for order in orders:
            self.orders += 1
            latest = order.ts if latest is None else max(latest, order.ts)
            items = order.distinct_items()
            for item in items:
                pop[item] = pop.get(item, 0.0) + 1.0
            if order.user_id is not None:
                mine = hist.setdefault(keys.history(order.user_id), {})
                for item in items:
                    mine[item] = max(mine.get(item, order.ts), order.ts)
                if followed_window_days > 0:
                    _follow(keys, follows, windows, order, max_items_per_order)
                n, spent = segs.get(order.user_id, (0, 0))
                spent += spend_hundredths(order_spend(order.items))
                segs[order.user_id] = (n + 1, min(spent, MAX_SPEND_HUNDREDTHS))
            paired = np.array(
                [vocab.setdefault(i, len(vocab)) for i in items[:max_items_per_order]],
                dtype=np.int64,
            )
            if len(paired) >= 2:
                a, b = np.repeat(paired, len(paired)), np.tile(paired, len(paired))
                codes.append(a[a != b] * (1 << 31) + b[a != b])
        self.vocab = list(vocab)
        flat = np.concatenate(codes) if codes else np.zeros(0, dtype=np.int64)
        self.codes, self.counts = np.unique(flat, return_counts=True)
        self.pair_increments = int(flat.size)
        self.values: dict[str, Any] = {keys.popularity: pop, **hist, **follows}
        for user, mine in windows.windows.items():
            if mine:
                self.values[keys.recent(user)] = dict(mine)
        buckets: dict[str, int] = {}
        for user, (n, spent) in segs.items():
            bucket = str(spend_bucket(spent / 100))
            self.values[keys.segment(user)] = {"o": str(n), "s": str(spent), "b": bucket}
            buckets[bucket] = buckets.get(bucket, 0) + 1
        if buckets:
            self.values[keys.spend_histogram] = {k: str(n) for k, n in buckets.items()}
        if self.orders:
            self.values[keys.meta] = {"N": float(self.orders), "T": float(latest or 0.0)}
        firsts = self.codes >> 31
        starts = np.searchsorted(firsts, np.arange(len(self.vocab)), side="left")
        ends = np.searchsorted(firsts, np.arange(len(self.vocab)), side="right")
        self._pairs = {
            keys.item(item).pairs: (int(s), int(e))
            for item, s, e in zip(self.vocab, starts, ends, strict=True)
            if e > s
        }

    def suffixes(self) -> set[str]:
        return set(self.values) | set(self._pairs)

    def expected(self, suffix: str) -> Any:
        if suffix in self._pairs:
            start, end = self._pairs[suffix]
            partners = self.codes[start:end] & ((1 << 31) - 1)
            return {
                self.vocab[int(p)]: float(c)
                for p, c in zip(partners, self.counts[start:end], strict=True)
            }
        return self.values.get(suffix)

    async def compare(self, store: Store) -> StateDiff:
        """Every model entry of ``store``'s namespace against the truth."""
        diff = StateDiff()
        suffixes = sorted(self.suffixes() | await store.ops.model_key_names())
        for i in range(0, len(suffixes), CHUNK):
            chunk = suffixes[i : i + CHUNK]
            for suffix, got in zip(chunk, await store.ops.values(chunk), strict=True):
                compare_value(diff, suffix, self.expected(suffix), got)
        return diff
