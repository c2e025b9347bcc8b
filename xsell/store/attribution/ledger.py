"""The store's side of feedback and attribution: which scripts an event needs (ledger in the
user's slot, then the day's counters), and how their answers become counter increments.

Exactly once, in two slots: the ledger script (ATTRIBUTE, FEEDBACK) remembers what each event
earned and answers the same on a redelivery; the day's COUNT applies it under the event's own
marker. Counters are kept per UTC day of the event, ``placement\\0variant\\0name`` for what
belongs to a placement (suggestions, impressions, clicks, dismisses, accepted,
attributed_revenue) and ``\\0variant\\0name`` for the variant's orders, revenue and the sum of
squared order values (for the interval of the average order value). An offer placed by a
merchant rule (``because.rule_id``) also counts, under ``rule:ID\\0variant\\0name``, its
offered item, and what it earned (accepted, attributed_revenue): the report's per-rule rows.
An offer made to a user of a known segment (the message's ``segment``) counts the same under
``seg:LIFECYCLE\0variant\0name`` and ``spend:TIER\0variant\0name``; a known user's
purchase counts its order, revenue and squared value there too, in the segment the user was in
when buying (before the order counted: a first order is a ``new`` user's): the report's
per-segment rows.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from xsell.config.settings import Settings
from xsell.models.events import CART_TYPES, CartEvent, FeedbackEvent, PurchaseEvent
from xsell.models.experiments import variant_of
from xsell.models.segments import SegmentParams
from xsell.store.attribution.bundles import bundle_lines
from xsell.store.attribution.lua import ATTRIBUTE, COUNT, FEEDBACK
from xsell.store.attribution.offers_lua import RECORD_OFFERS_MANY
from xsell.store.attribution.segment_rows import segment_arg, segment_of_message, segment_rows
from xsell.store.backend.client import Call, Runner
from xsell.store.backend.scripts import number_arg
from xsell.store.core.batching import run_merged
from xsell.store.core.keys import Keys

SEP = "\x00"
RULE_PREFIX = "rule:"  # the placement-like dimension of what a merchant rule's offers earned
DAY_SECONDS = 86400


def is_attributed(event: Any) -> TypeGuard[CartEvent | PurchaseEvent | FeedbackEvent]:
    """Events that feed the attribution and the report: cart changes (an add accepts offers, a
    remove may cannibalize an acceptance; a view is neither), purchases, feedback."""
    return isinstance(event, PurchaseEvent | FeedbackEvent) or (
        isinstance(event, CartEvent) and event.type in CART_TYPES
    )


def trigger_arg(message: dict[str, Any]) -> str:
    """A message's trigger items for the ledger (JSON; '' when none): an offer accepted by an
    add-to-cart is cannibalized when one of them then leaves the cart."""
    trigger = message.get("trigger") or {}
    items = [str(i) for i in trigger.get("item_ids") or ()]
    return json.dumps(items) if items else ""


def day_of(ts: float) -> int:
    """The UTC day (days since 1970-01-01) of an event time: the report's bucket."""
    return int(ts // DAY_SECONDS)


def placement_field(placement: str, variant: str, name: str) -> str:
    return f"{placement}{SEP}{variant}{SEP}{name}"


def variant_field(variant: str, name: str) -> str:
    return f"{SEP}{variant}{SEP}{name}"


def rule_of(offer: dict[str, Any]) -> str:
    """The id of the merchant rule that placed an offer (its ``because.rule_id``), '' for none.
    An id the ledger's record could not hold ('|', NUL; never one the store makes) counts as
    none."""
    rule = (offer.get("because") or {}).get("rule_id")
    if not isinstance(rule, str) or "|" in rule or SEP in rule:
        return ""
    return rule


def order_value(event: PurchaseEvent) -> float:
    """Price x quantity over the order's lines (a line without a price adds nothing)."""
    return sum((line.price or 0.0) * line.quantity for line in event.items)


def guest_pseudonym(event: PurchaseEvent) -> str:
    """The revenue row of a guest's order (no user, no ledger): one per order."""
    return hashlib.sha1(f"order{SEP}{event.order_id}".encode()).hexdigest()


@dataclass
class Earned:
    """What one event adds to the day's aggregates."""

    pid: str | None
    counters: dict[str, float] = field(default_factory=dict)
    revenue: dict[str, float | None] = field(default_factory=dict)  # None: seen, HSETNX 0

    def add(self, name: str, amount: float) -> None:
        self.counters[name] = self.counters.get(name, 0.0) + amount


class Attribution:
    """Builds the ledger and counter calls of one namespace with the settings' window."""

    def __init__(self, keys: Keys, settings: Settings) -> None:
        self.keys = keys
        self.settings = settings
        self.window = settings.feedback.attribution_window_seconds
        self.max_entries = settings.feedback.attribution_ledger_max_entries
        self.experiment = settings.running_experiment
        seg = settings.segments
        self.segment_params = SegmentParams(
            seg.loyal_min_orders, seg.low_spend_share, seg.high_spend_share
        )

    def ledger_call(self, event: CartEvent | PurchaseEvent | FeedbackEvent) -> Call | None:
        """The user-slot script of an event (None: nothing to look up)."""
        w = number_arg(self.window)
        if isinstance(event, FeedbackEvent):
            return (
                FEEDBACK,
                self.keys.ledger(event.user_id),
                [
                    event.event_id,
                    number_arg(event.ts),
                    w,
                    event.suggestion_id,
                    event.type,
                    event.item_id or "",
                ],
            )
        if isinstance(event, CartEvent):
            if event.type == "remove_from_cart":
                kind, lines = "remove", [event.item_id, "", "0"]
            elif event.type == "add_to_cart":
                kind, lines = "add", [event.item_id, event.suggestion_id or "", "0"]
            else:
                return None
            return (
                ATTRIBUTE,
                self.keys.ledger(event.user_id),
                [event.event_id, number_arg(event.ts), w, kind, *lines],
            )
        if event.user_id is None:
            return None
        revenue: dict[str, float] = {}
        explicit: dict[str, str] = {}
        for line in event.items:
            revenue[line.item_id] = revenue.get(line.item_id, 0.0) + (line.price or 0.0) * (
                line.quantity
            )
            if line.suggestion_id and line.item_id not in explicit:
                explicit[line.item_id] = line.suggestion_id
        triples = [
            x
            for item, amount in revenue.items()
            for x in (item, explicit.get(item, ""), number_arg(amount))
        ]
        triples += [
            x
            for bid, whole, amount in bundle_lines(event)
            for x in (SEP + bid, "1" if whole else "0", number_arg(amount))
        ]
        return (
            ATTRIBUTE,
            self.keys.ledger(event.user_id),
            [event.event_id, number_arg(event.ts), w, "buy", *triples],
        )

    def earned(
        self,
        event: CartEvent | PurchaseEvent | FeedbackEvent,
        answer: str | None,
        segment: tuple[str, str] = ("", ""),
    ) -> Earned:
        """The aggregates of an event, from its ledger answer (JSON) and, for a purchase,
        its order value in its variant, and in its user's ``segment`` (lifecycle, spend tier;
        '' unknown) when buying."""
        parsed: dict[str, Any] = json.loads(answer) if answer else {}
        deltas = parsed.get("deltas") or []
        out = Earned(parsed.get("pid"))
        for placement, variant, name, amount in deltas if isinstance(deltas, list) else ():
            out.add(placement_field(placement, variant, name), float(amount))
        if isinstance(event, PurchaseEvent):
            unit = event.user_id if event.user_id is not None else f"order:{event.order_id}"
            variant = variant_of(self.experiment, unit)
            value = order_value(event)
            out.add(variant_field(variant, "orders"), 1.0)
            out.add(variant_field(variant, "revenue"), value)
            out.add(variant_field(variant, "revenue_sq"), value * value)
            for row in segment_rows(*segment):
                out.add(placement_field(row, variant, "orders"), 1.0)
                out.add(placement_field(row, variant, "revenue"), value)
                out.add(placement_field(row, variant, "revenue_sq"), value * value)
            pid = out.pid or guest_pseudonym(event)
            out.revenue[f"{variant}{SEP}{pid}"] = value
        return out

    def count_call(
        self, marker: str, ts: float, earned: Earned, now_ms: int, until_ms: int | None = None
    ) -> Call | None:
        """The day's COUNT of what an event earned (None: nothing). ``until_ms``: how long
        its guard marker is kept (default: the dedup window; an apply passes the pending
        lifetime and commits it, xsell/store/core/guards.py)."""
        if not earned.counters and not earned.revenue:
            return None
        counters = [x for kv in earned.counters.items() for x in (kv[0], number_arg(kv[1]))]
        rows = [
            x for k, v in earned.revenue.items() for x in (k, "" if v is None else number_arg(v))
        ]
        return (
            COUNT,
            self.keys.day(day_of(ts)),
            [
                marker,
                now_ms,
                until_ms
                if until_ms is not None
                else now_ms + self.settings.learning.dedup_window_seconds * 1000,
                self.settings.feedback.report_retention_days * 86400,
                len(earned.counters),
                *counters,
                *rows,
            ],
        )

    def offer_calls(
        self, messages: Sequence[dict[str, Any]], trigger_ts: Sequence[float]
    ) -> dict[str, Call]:
        """RECORD_OFFERS_MANY of each known user: all the user's published messages, in their
        order, in one call (empty ones too: the holdout's messages record the user as seen in
        ``control``). Keyed by user id, in the order of each user's first message."""
        args: dict[str, list[str]] = {}
        for message, ts in zip(messages, trigger_ts, strict=True):
            user = message["user_id"]
            if user is None:
                continue
            pairs = [x for o in message["items"] for x in (o["item_id"], rule_of(o))]
            args.setdefault(user, [number_arg(self.window), str(self.max_entries)]).extend(
                [
                    message["suggestion_id"],
                    number_arg(ts),
                    message["placement"],
                    message["variant"],
                    trigger_arg(message),
                    segment_arg(message),
                    str(len(message["items"])),
                    *pairs,
                ]
            )
        return {user: (RECORD_OFFERS_MANY, self.keys.ledger(user), a) for user, a in args.items()}

    def offers_earned(self, message: dict[str, Any], pid: str | None) -> Earned:
        """A published message's aggregates: one suggestion, and its user seen."""
        out = Earned(pid)
        out.add(placement_field(message["placement"], message["variant"], "suggestions"), 1.0)
        if message["items"]:
            out.add(
                placement_field(message["placement"], message["variant"], "offered"),
                float(len(message["items"])),
            )
        for offer in message["items"]:
            rule = rule_of(offer)
            if rule:
                out.add(placement_field(RULE_PREFIX + rule, message["variant"], "offered"), 1.0)
        for row in segment_rows(*segment_of_message(message)) if message["items"] else ():
            out.add(
                placement_field(row, message["variant"], "offered"), float(len(message["items"]))
            )
        if pid is not None:
            out.revenue[f"{message['variant']}{SEP}{pid}"] = None
        return out


async def record_offers(
    runner: Runner,
    attribution: Attribution,
    messages: Sequence[dict[str, Any]],
    offered_at: Sequence[float],
    first: Sequence[Call] = (),
) -> list[Any]:
    """Record published messages (shape of a suggestion: suggestion_id, user_id, placement,
    variant, items) in their users' ledgers, one script call per user, then count them in
    their days: two round trips, the ledger's answers (pseudonyms) feeding the counters.
    ``first``: other calls to send in the first round trip (their answers are returned)."""
    offers = attribution.offer_calls(messages, offered_at)
    answers = await runner.run([*first, *offers.values()])
    pids = dict(zip(offers, answers[len(first) :], strict=True))
    now_ms = int(time.time() * 1000)
    counted: list[Call | None] = [
        attribution.count_call(
            f"s:{m['suggestion_id']}",
            ts,
            attribution.offers_earned(m, str(pids[m["user_id"]])),
            now_ms,
        )
        for m, ts in zip(messages, offered_at, strict=True)
        if m["user_id"] is not None
    ]
    counted += [
        attribution.count_call(
            f"s:{m['suggestion_id']}", ts, attribution.offers_earned(m, None), now_ms
        )
        for m, ts in zip(messages, offered_at, strict=True)
        if m["user_id"] is None
    ]
    await run_merged(runner, [c for c in counted if c is not None])
    return answers[: len(first)]
