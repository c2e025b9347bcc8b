"""The fixed evaluation protocol: split, replay as add-to-cart triggers, and the metrics.

Orders are sorted by time (an order's time is its first row's ts; ties keep file order); the
first 80% train, the rest test. Each test order with >= 2 distinct items (its first 50) is
replayed item by item as add-to-cart events of a fresh anonymous user; after each add except the
last, the method suggests k items; a hit is a suggested item the order goes on to contain. Once
its last add is scored, the cart is checked out (:func:`session_checkout`): every method learns
the order, xsell from its purchase event as a shop would send it, the anchors by adding it to
their counts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from xsell.models.events import CartEvent, PurchaseEvent

TRAIN_SHARE = 0.8
MAX_TEST_ITEMS = 50


def split(orders: Sequence[PurchaseEvent]) -> tuple[list[PurchaseEvent], list[PurchaseEvent]]:
    """(train, test): time-sorted (stable), first 80% / last 20%."""
    ordered = sorted(orders, key=lambda o: o.ts)  # sorted() is stable: ties keep file order
    cut = int(len(ordered) * TRAIN_SHARE)
    return ordered[:cut], ordered[cut:]


def eval_sessions(test: Sequence[PurchaseEvent]) -> list[tuple[PurchaseEvent, list[str]]]:
    """Test orders with >= 2 distinct items, and their first 50 distinct items."""
    sessions = []
    for order in test:
        items = order.distinct_items()[:MAX_TEST_ITEMS]
        if len(items) >= 2:
            sessions.append((order, items))
    return sessions


@dataclass
class Metrics:
    """Accumulates HR@k, precision@k, NDCG@k, MRR and coverage over triggers."""

    k: int
    triggers: int = 0
    hits: int = 0
    precision: float = 0.0
    ndcg: float = 0.0
    mrr: float = 0.0
    suggested: set[str] = field(default_factory=set)

    def add(self, suggestions: Sequence[str], rest: set[str]) -> None:
        """Score one trigger: ``suggestions`` (best first) against the items still to come."""
        top = list(suggestions)[: self.k]
        self.triggers += 1
        self.suggested.update(top)
        relevant = [item in rest for item in top]
        if any(relevant):
            self.hits += 1
            self.mrr += 1.0 / (relevant.index(True) + 1)
        self.precision += sum(relevant) / self.k
        dcg = sum(1.0 / math.log2(i + 2) for i, r in enumerate(relevant) if r)
        ideal = sum(1.0 / math.log2(i + 2) for i in range(min(self.k, len(rest))))
        self.ndcg += dcg / ideal if ideal else 0.0

    def result(self, catalogue_size: int) -> dict[str, float]:
        n = max(self.triggers, 1)
        return {
            "hr": round(self.hits / n, 4),
            "precision": round(self.precision / n, 4),
            "ndcg": round(self.ndcg / n, 4),
            "mrr": round(self.mrr / n, 4),
            "coverage": round(len(self.suggested) / max(catalogue_size, 1), 4),
        }


def catalogue(train: Sequence[PurchaseEvent]) -> list[str]:
    """Items seen in training, in first-seen order (the catalogue for coverage)."""
    return list(dict.fromkeys(item for order in train for item in order.distinct_items()))


def session_events(order: PurchaseEvent, items: Sequence[str]) -> list[CartEvent]:
    """The test order as add-to-cart events of a fresh anonymous user (one second apart)."""
    user = f"eval-{order.order_id}"
    return [
        CartEvent(f"eval-{order.event_id}-{n}", "add_to_cart", user, item, order.ts + n)
        for n, item in enumerate(items)
    ]


def session_checkout(order: PurchaseEvent, items: Sequence[str]) -> PurchaseEvent:
    """The purchase that ends a replayed cart: the same anonymous user as
    :func:`session_events`, one second after its last add, holding the cart's items (the
    order's lines of those items), so xsell learns exactly the order the anchors learn."""
    kept = set(items)
    return PurchaseEvent(
        f"eval-{order.event_id}-checkout",
        order.order_id,
        f"eval-{order.order_id}",
        order.ts + len(items),
        tuple(line for line in order.items if line.item_id in kept),
    )


@dataclass
class EvalData:
    train: list[PurchaseEvent]
    test: list[PurchaseEvent]
    sessions: list[tuple[PurchaseEvent, list[str]]]
    catalogue: list[str]

    @classmethod
    def of(cls, orders: Sequence[PurchaseEvent]) -> EvalData:
        train, test = split(orders)
        return cls(train, test, eval_sessions(test), catalogue(train))

    @property
    def triggers(self) -> int:
        return sum(len(items) - 1 for _, items in self.sessions)
