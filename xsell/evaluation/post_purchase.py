"""The post-purchase protocol of ``xsell eval --post-purchase`` (docs/evaluation.md).

Same temporal split as the cart protocol (orders by time, the first 80% train). Every test
order is streamed in time order; a test order of a known user whose next order follows within
``WINDOW_DAYS`` is a trigger: right after the purchase each method suggests 3 items, never one
the user owns (bought in any order up to this one, train included); a hit is a suggestion that
the next order holds. HR@3 = triggers with a hit / triggers; Recall@3 = the share of the next
order's new items (not owned) among the 3, averaged over triggers (0 when the next order holds
only rebuys: no method here may offer those). Also reported: the share of next-order items that
are rebuys.

xsell: trained as ``xsell backfill`` does (bulk, followed-by included), then the test orders go
through ``Engine.process`` (the worker's apply-and-rank path) in micro-batches of orders of
distinct users, so an order's suggestion never sees that user's later orders; with self-tuning
on, the report's ``tuning`` is what the followed-by weight's tuner chose on the test stream
(xsell/engine/followed_tuning.py), starting at ``XSELL_FOLLOWED_WEIGHT``. The anchors keep
their item statistics streaming too: each test order is added once it has been scored.

- ``same_basket``: sum over the order's items a of confidence C(a, b) / n(a);
- ``followed_by``: sum over the order's items a of the count of first purchases of b within the
  window after an order of a, by the same user (models/followed.py, without caps);
- ``popular``: the most ordered items.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from xsell.config.settings import Settings
from xsell.engine import Engine, followed_tuning_status
from xsell.evaluation.protocol import split
from xsell.models.events import CatalogItem, PurchaseEvent
from xsell.models.followed import UserWindows
from xsell.ops.loading import load_history
from xsell.store import Store

WINDOW_DAYS = 30
BATCH = 100  # test orders per micro-batch (of distinct users)
ANCHORS = ("same_basket", "followed_by", "popular")


@dataclass
class PostMetrics:
    """HR@k and Recall@k over triggers, and the rebuy share of the next orders' items."""

    k: int
    triggers: int = 0
    hits: int = 0
    recall: float = 0.0
    owned_suggested: int = 0  # a method's suggestions the user owned (must stay 0)

    def add(self, suggested: Sequence[str], following: set[str], owned: set[str]) -> None:
        top = list(suggested)[: self.k]
        new = following - owned
        self.triggers += 1
        self.owned_suggested += sum(1 for i in top if i in owned)
        got = sum(1 for i in top if i in new)  # an owned item offered (a fault) never hits
        self.hits += got > 0
        self.recall += got / len(new) if new else 0.0

    def result(self) -> dict[str, float]:
        n = max(self.triggers, 1)
        return {
            "hr": round(self.hits / n, 4),
            "recall": round(self.recall / n, 4),
            "owned_suggested": self.owned_suggested,
        }


def next_orders(
    ordered: Sequence[PurchaseEvent], first_test: int, window: float
) -> dict[int, set[str]]:
    """Test order index -> the items of its user's next order, when that follows within
    ``window`` seconds (later ts; orders sorted by time)."""
    last: dict[str, int] = {}
    out: dict[int, set[str]] = {}
    for n, order in enumerate(ordered):
        user = order.user_id
        if user is None:
            continue
        before = last.get(user)
        if before is not None and before >= first_test:
            gap = order.ts - ordered[before].ts
            if 0 < gap <= window:
                out[before] = set(order.distinct_items())
        last[user] = n
    return out


@dataclass
class StreamedAnchors:
    """The anchors' item statistics, updated order by order (module doc)."""

    max_items: int
    window: float
    n: Counter[str] = field(default_factory=Counter)
    co: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    follows: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    windows: UserWindows | None = None

    def __post_init__(self) -> None:
        self.windows = UserWindows(self.window, 10**9, 10**9)

    def learn(self, order: PurchaseEvent) -> None:
        items = order.distinct_items()
        self.n.update(items)
        paired = items[: self.max_items]
        for a in paired:
            row = self.co[a]
            for b in paired:
                if a != b:
                    row[b] += 1
        if order.user_id is not None and self.windows is not None:
            follow = self.windows.purchase(order.user_id, items, order.ts)
            for a in follow.earlier:
                row = self.follows[a]
                for b in follow.first:
                    if a != b:
                        row[b] += 1

    def suggest(self, items: Sequence[str], owned: set[str], k: int) -> dict[str, list[str]]:
        basket: defaultdict[str, float] = defaultdict(float)
        follow: defaultdict[str, float] = defaultdict(float)
        for a in items:
            na = self.n[a]
            for b, c in self.co.get(a, Counter()).items():
                basket[b] += c / na
            for b, c in self.follows.get(a, Counter()).items():
                follow[b] += c
        return {
            "same_basket": _top(basket, owned, k),
            "followed_by": _top(follow, owned, k),
            "popular": _top(self.n, owned, k),
        }


def _top(scores: Mapping[str, float], owned: set[str], k: int) -> list[str]:
    ranked = sorted(
        ((s, i) for i, s in scores.items() if i not in owned), key=lambda si: (-si[0], si[1])
    )
    return [i for _, i in ranked[:k]]


def batches(orders: Sequence[PurchaseEvent], size: int) -> Iterator[list[int]]:
    """Indexes of consecutive orders in batches of at most ``size``, no user twice in one."""
    batch: list[int] = []
    users: set[str] = set()
    for n, order in enumerate(orders):
        if len(batch) >= size or (order.user_id is not None and order.user_id in users):
            yield batch
            batch, users = [], set()
        batch.append(n)
        if order.user_id is not None:
            users.add(order.user_id)
    if batch:
        yield batch


async def run_xsell(
    settings: Settings,
    train: Sequence[PurchaseEvent],
    test: Sequence[PurchaseEvent],
    nexts: dict[int, set[str]],
    owned_at: dict[int, set[str]],
    catalog: Sequence[CatalogItem],
) -> tuple[PostMetrics, dict[str, Any] | None]:
    """xsell's post-purchase suggestions for the triggers (module doc), and what the
    followed-by weight's self-tuning ended with (None when it is off)."""
    settings = settings.model_copy(update={"key_namespace": f"evalpp-{uuid.uuid4().hex[:8]}"})
    store = await Store.open(settings)
    metrics = PostMetrics(settings.ranking.max_suggestions)
    try:
        await load_history(store, list(train), mode="auto", catalog=catalog)
        engine = Engine(store, settings)
        for idx in batches(test, BATCH):
            messages = await engine.process([test[n] for n in idx])
            for n, message in zip(idx, messages, strict=True):
                if n in nexts:
                    offered = [i["item_id"] for i in message["items"]]
                    metrics.add(offered, nexts[n], owned_at[n])
        tuning = await followed_tuning_status(store, settings) if engine.follow_tuner else None
    finally:
        await store.flush_namespace()
        await store.close()
    return metrics, tuning


def evaluate_post_purchase(
    settings: Settings,
    orders: Sequence[PurchaseEvent],
    dataset: str,
    *,
    catalog: Sequence[CatalogItem] = (),
) -> dict[str, Any]:
    """The report of ``xsell eval --post-purchase`` (a private, throw-away redis-server
    unless XSELL_REDIS_URL names one, as ``xsell eval``)."""
    from xsell.evaluation.runner import eval_redis

    started = time.monotonic()
    train, test = split(orders)
    window = WINDOW_DAYS * 86400.0
    k = settings.ranking.max_suggestions
    ordered = [*train, *test]
    nexts_all = next_orders(ordered, len(train), window)
    nexts = {n - len(train): items for n, items in nexts_all.items()}
    owned: defaultdict[str, set[str]] = defaultdict(set)
    for order in train:
        if order.user_id is not None:
            owned[order.user_id].update(order.distinct_items())
    anchors = StreamedAnchors(settings.learning.max_items_per_order, window)
    for order in train:
        anchors.learn(order)
    results = {name: PostMetrics(k) for name in ANCHORS}
    owned_at: dict[int, set[str]] = {}
    next_items = rebuys = 0
    for n, order in enumerate(test):
        if order.user_id is not None:
            owned[order.user_id].update(order.distinct_items())
        if n in nexts:
            user = order.user_id
            assert user is not None
            owned_at[n] = set(owned[user])
            next_items += len(nexts[n])
            rebuys += len(nexts[n] & owned_at[n])
            lists = anchors.suggest(order.distinct_items(), owned_at[n], k)
            for name, suggested in lists.items():
                results[name].add(suggested, nexts[n], owned_at[n])
        anchors.learn(order)
    with eval_redis(settings) as local:
        xsell, tuning = asyncio.run(run_xsell(local, train, test, nexts, owned_at, catalog))
    return {
        "dataset": dataset,
        "protocol": "post_purchase",
        "k": k,
        "window_days": WINDOW_DAYS,
        "train_orders": len(train),
        "test_orders": len(test),
        "triggers": len(nexts),
        "rebuy_share": round(rebuys / max(next_items, 1), 4),
        "results": {"xsell": xsell.result(), **{n: m.result() for n, m in results.items()}},
        "tuning": tuning,
        "tuning_z": settings.tuning.z,
        "seconds": round(time.monotonic() - started, 1),
    }


def post_purchase_table(rep: dict[str, Any]) -> str:
    res = rep["results"]
    lines = [
        f"dataset {rep['dataset']}, post-purchase: {rep['train_orders']} train / "
        f"{rep['test_orders']} test orders, {rep['triggers']} triggers (next order within "
        f"{rep['window_days']} days; {rep['rebuy_share']:.1%} of its items are rebuys), "
        f"k={rep['k']}, {rep['seconds']}s",
        f"{'method':<12}{'HR@k':>10}{'Recall@k':>10}{'owned':>8}",
    ]
    for name, v in res.items():
        lines.append(f"{name:<12}{v['hr']:>10.4f}{v['recall']:>10.4f}{v['owned_suggested']:>8}")
    best_name, best = max(
        ((n, v["hr"]) for n, v in res.items() if n != "xsell"), key=lambda x: x[1]
    )
    if best > 0:
        lines.append(f"xsell / best anchor ({best_name}) HR@k: {res['xsell']['hr'] / best:.3f}")
    tuning = rep.get("tuning")
    if tuning:
        rates = ", ".join(f"{w}: {r}" for w, r in tuning["hit_rates"].items())
        lead, z = tuning["lead"], rep.get("tuning_z")
        lines.append(
            f"self-tuning: followed-by weight {tuning['followed_weight']} (hit rates of its test "
            f"cases {rates}; {tuning['cases']} decayed cases; best {lead['followed_weight']}: "
            f"{lead['wins']} wins / {lead['losses']} losses against the choice, "
            f"z {lead['z']} of {z} needed)"
        )
    return "\n".join(lines)
