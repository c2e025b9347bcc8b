"""The cart-personal protocol of ``xsell eval --cart-personal`` (docs/evaluation.md#cart-personal).

The cart protocol (the same temporal 80/20 split; each test order with >= 2 distinct items, its
first 50, replayed add by add; the k suggestions after each add but the last; a hit is an item
the order goes on to contain), with each known user's history available: every test order is
replayed under its REAL user id (``eval-<order_id>``, a fresh anonymous shopper, when it has
none) and checked out with its purchase under that id, so xsell's per-user state (history,
buy-again offers, segments, the exclusion of owned items) applies as in a live shop. Test
orders of one item are replayed too (one add, no trigger, then the checkout), so a user's
history holds all their earlier orders.

A user never has two carts open at once: of the ``shoppers`` carts open side by side, a user's
next order waits until the previous one is checked out (:class:`CartQueue`); otherwise carts
open in time order.

Triggers are grouped by who shops: ``returning`` (a known user with an earlier order, train
or test), ``first`` (a known user's first order), ``anonymous``; and ``all``. Two forms:
``any`` (a hit on any later item of the order) and ``explore`` (a hit on a later item the user
had not bought before this order; only triggers whose rest holds such an item count).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from xsell.evaluation.protocol import MAX_TEST_ITEMS, Metrics, split
from xsell.models.events import CartEvent, PurchaseEvent

GROUPS = ("all", "returning", "first", "anonymous")
FORMS = ("any", "explore")


@dataclass(frozen=True)
class PersonalSession:
    """One test order as replayed: its items (first 50 distinct), who shops, and which of its
    items the user had not bought before (all of them for a first or anonymous order)."""

    order: PurchaseEvent
    items: list[str]
    user: str
    group: str
    new: frozenset[str]

    @property
    def triggers(self) -> int:
        return len(self.items) - 1


def shopper(order: PurchaseEvent) -> str:
    """The user id a test order is replayed under: its own, else a fresh anonymous one."""
    return order.user_id if order.user_id is not None else f"eval-{order.order_id}"


def personal_sessions(
    train: Sequence[PurchaseEvent], test: Sequence[PurchaseEvent]
) -> list[PersonalSession]:
    """Every test order (time order) as a :class:`PersonalSession`. ``owned`` grows with the
    items xsell learns: a training order's distinct items, a test order's replayed ones."""
    owned: defaultdict[str, set[str]] = defaultdict(set)
    seen: set[str] = set()
    for order in train:
        if order.user_id is not None:
            seen.add(order.user_id)
            owned[order.user_id].update(order.distinct_items())
    out = []
    for order in test:
        items = order.distinct_items()[:MAX_TEST_ITEMS]
        user = order.user_id
        if user is None:
            group, new = "anonymous", frozenset(items)
        else:
            group = "returning" if user in seen else "first"
            new = frozenset(i for i in items if i not in owned[user])
            seen.add(user)
            owned[user].update(items)
        out.append(PersonalSession(order, items, shopper(order), group, new))
    return out


@dataclass
class GroupMetrics:
    """One method's :class:`Metrics` per group and form."""

    k: int
    cells: dict[tuple[str, str], Metrics] = field(default_factory=dict)
    rebuys: dict[str, int] = field(default_factory=dict)  # xsell's buy-again offers

    def __post_init__(self) -> None:
        self.cells = {(g, f): Metrics(self.k) for g in GROUPS for f in FORMS}

    def add(self, session: PersonalSession, n: int, suggested: Sequence[str]) -> None:
        """Score the suggestion after add ``n`` of ``session``."""
        rest = set(session.items[n + 1 :])
        new = rest & session.new
        for group in ("all", session.group):
            self.cells[group, "any"].add(suggested, rest)
            if new:
                self.cells[group, "explore"].add(suggested, new)

    def result(self) -> dict[str, dict[str, dict[str, float]]]:
        """``<group>.<form>``: hr, mrr and triggers."""
        out: dict[str, dict[str, dict[str, float]]] = {}
        for (group, form), m in self.cells.items():
            r = m.result(1)
            out.setdefault(group, {})[form] = {
                "hr": r["hr"],
                "mrr": r["mrr"],
                "triggers": m.triggers,
            }
        return out


class CartQueue:
    """Which sessions open next: in time order, but never a user's second cart while their
    first is open (it waits, ahead of later sessions, until that user's checkout)."""

    def __init__(self, users: Sequence[str]) -> None:
        self.users = users
        self.next = 0
        self.waiting: list[int] = []  # deferred sessions, in time order

    def take(self, free: int, open_users: set[str]) -> list[int]:
        """Up to ``free`` sessions to open now; adds their users to ``open_users``."""
        picked: list[int] = []
        keep: list[int] = []
        for i in self.waiting:
            if len(picked) < free and self.users[i] not in open_users:
                picked.append(i)
                open_users.add(self.users[i])
            else:
                keep.append(i)
        while len(picked) < free and self.next < len(self.users):
            i, self.next = self.next, self.next + 1
            if self.users[i] in open_users:
                keep.append(i)
            else:
                picked.append(i)
                open_users.add(self.users[i])
        self.waiting = keep
        return picked

    def done(self) -> bool:
        return not self.waiting and self.next >= len(self.users)


def cart_events(session: PersonalSession) -> list[CartEvent]:
    """The session's add-to-carts under its shopper's id (one second apart)."""
    order = session.order
    return [
        CartEvent(f"eval-{order.event_id}-{n}", "add_to_cart", session.user, item, order.ts + n)
        for n, item in enumerate(session.items)
    ]


def checkout(session: PersonalSession) -> PurchaseEvent:
    """The purchase that ends the cart: the shopper's id, one second after the last add, the
    order's lines of the replayed items (what the anchors learn too)."""
    order, kept = session.order, set(session.items)
    return PurchaseEvent(
        f"eval-{order.event_id}-checkout",
        order.order_id,
        session.user,
        order.ts + len(session.items),
        tuple(line for line in order.items if line.item_id in kept),
    )


async def replay_personal(
    engine: Any,
    sessions: Sequence[PersonalSession],
    shoppers: int,
    score: Callable[[int, int, dict[str, Any]], None],
    bar: Any,
) -> None:
    """:func:`xsell.evaluation.runner.replay` with real user ids: up to ``shoppers`` carts open
    side by side, each micro-batch through ``engine.process`` holding the next add of every
    open cart; ``score(session index, add, message)`` after each add but the last; a finished
    cart is checked out (``engine.store.apply``) before the next batch, and only then may its
    user's next cart open (:class:`CartQueue`)."""
    queue = CartQueue([s.user for s in sessions])
    open_users: set[str] = set()
    carts: list[tuple[int, list[CartEvent]]] = []
    step: list[int] = []
    while True:
        for i in queue.take(shoppers - len(carts), open_users):
            carts.append((i, cart_events(sessions[i])))
            step.append(0)
        if not carts:
            return
        messages = await engine.process([ev[n] for (_, ev), n in zip(carts, step, strict=True)])
        still, still_step, checkouts = [], [], []
        for cart, n, message in zip(carts, step, messages, strict=True):
            i, events = cart
            if n < len(events) - 1:
                score(i, n, message)
                bar.update()
                still.append(cart)
                still_step.append(n + 1)
            else:
                checkouts.append(checkout(sessions[i]))
                open_users.discard(sessions[i].user)
        if checkouts:
            await engine.store.apply(checkouts)
        carts, step = still, still_step


def personal_data(
    orders: Sequence[PurchaseEvent],
) -> tuple[list[PurchaseEvent], list[PersonalSession]]:
    """(train, the test sessions) of ``orders`` by the fixed split."""
    train, test = split(orders)
    return train, personal_sessions(train, test)


def group_triggers(sessions: Sequence[PersonalSession]) -> dict[str, int]:
    """Triggers per group (``all`` included)."""
    out = dict.fromkeys(GROUPS, 0)
    for s in sessions:
        out["all"] += s.triggers
        out[s.group] += s.triggers
    return out
