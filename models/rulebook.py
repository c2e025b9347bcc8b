"""Which merchant rules apply to a request (docs/rules.md, "when"), fast with many rules.

A :class:`RuleBook` is built once per rules version (each process keeps one): every rule's
``when`` as frozensets and Unix times, and the rules indexed by their trigger items, else by
their categories, so a request looks only at the rules that could concern it plus those
without items or categories. With 1,000 item rules a request checks a handful, not 1,000
(tests/unit/test_rulebook.py holds it under 1 ms a request).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from xsell.models.messages.merchant import StoredRule, rule_time

DAYPARTS = (("night", 0), ("morning", 6), ("afternoon", 12), ("evening", 18))  # UTC hour starts


@dataclass(frozen=True, slots=True)
class RuleContext:
    """What a rule's ``when`` is matched against."""

    placement: str | None
    items: frozenset[str]  # the trigger and cart items
    categories: frozenset[str]  # their categories
    segment: str | None  # the segment the request names (it alone counts when given)
    now: float  # wall-clock Unix seconds
    # the user's computed segment names (models/segments.py rule_names), matched when the
    # request names none; None: not known yet (a pin is read in case it matches)
    segments: frozenset[str] | None = frozenset()

    def segment_matches(self, wanted: frozenset[str]) -> bool:
        """True when the request's segment, else one of the user's computed ones, is wanted."""
        if self.segment is not None:
            return self.segment in wanted
        return self.segments is None or not self.segments.isdisjoint(wanted)


def daypart(now: float) -> str:
    """The UTC daypart of ``now``: rules are written in one clock for every process."""
    hour = datetime.fromtimestamp(now, UTC).hour
    return [name for name, start in DAYPARTS if hour >= start][-1]


def _set(values: Iterable[str] | None) -> frozenset[str] | None:
    return None if values is None else frozenset(values)


@dataclass(frozen=True, slots=True)
class Compiled:
    """A rule's ``when``, ready to match (None: any)."""

    rule: StoredRule
    placements: frozenset[str] | None
    items: frozenset[str] | None
    categories: frozenset[str] | None
    segments: frozenset[str] | None
    dayparts: frozenset[str] | None
    starts: float | None
    ends: float | None

    @classmethod
    def of(cls, rule: StoredRule) -> Compiled:
        w = rule.when
        return cls(
            rule,
            _set(w.placements),
            _set(w.items),
            _set(w.categories),
            _set(w.segments),
            _set(w.dayparts),
            rule_time(w.starts_at),
            rule_time(w.ends_at),
        )

    def matches(self, ctx: RuleContext, *, any_category: bool = False) -> bool:
        """True when every ``when`` field the rule sets matches the request. A rule naming
        segments never matches a request without one: a segment campaign must not leak to
        all; without a named one, the user's computed segments (models/segments.py) count.
        ``any_category``: categories not checked (before the catalogue is read)."""
        return (
            (self.placements is None or ctx.placement in self.placements)
            and (self.items is None or not ctx.items.isdisjoint(self.items))
            and (
                any_category
                or self.categories is None
                or not ctx.categories.isdisjoint(self.categories)
            )
            and (self.segments is None or ctx.segment_matches(self.segments))
            and (self.starts is None or ctx.now >= self.starts)
            and (self.ends is None or ctx.now <= self.ends)
            and (self.dayparts is None or daypart(ctx.now) in self.dayparts)
        )


def rule_matches(rule: StoredRule, ctx: RuleContext) -> bool:
    """:meth:`Compiled.matches` of one rule."""
    return Compiled.of(rule).matches(ctx)


def by_priority(rules: Iterable[StoredRule]) -> list[StoredRule]:
    """Highest priority first; ties by rule id, so every process resolves them alike."""
    return sorted(rules, key=lambda r: (-r.priority, r.rule_id))


class RuleBook:
    """The rules of one version, indexed by trigger item, else category (module doc)."""

    def __init__(self, rules: Iterable[StoredRule] = ()) -> None:
        self.rules = tuple(rules)
        self.general: list[Compiled] = []
        self.by_item: dict[str, list[Compiled]] = {}
        self.by_category: dict[str, list[Compiled]] = {}
        self.category_pins: list[Compiled] = []  # category rules with pins (read before cats)
        for rule in self.rules:
            c = Compiled.of(rule)
            if c.items is not None:
                for item in c.items:
                    self.by_item.setdefault(item, []).append(c)
            elif c.categories is not None:
                for cat in c.categories:
                    self.by_category.setdefault(cat, []).append(c)
                if rule.then.pin:
                    self.category_pins.append(c)
            else:
                self.general.append(c)

    def __bool__(self) -> bool:
        return bool(self.rules)

    def _candidates(self, ctx: RuleContext, any_category: bool) -> dict[str, Compiled]:
        found = {c.rule.rule_id: c for c in self.general}
        for item in ctx.items:
            found.update((c.rule.rule_id, c) for c in self.by_item.get(item, ()))
        if any_category:
            found.update((c.rule.rule_id, c) for c in self.category_pins)
        else:
            for cat in ctx.categories:
                found.update((c.rule.rule_id, c) for c in self.by_category.get(cat, ()))
        return found

    def matching(self, ctx: RuleContext) -> list[StoredRule]:
        """The rules that apply to the request, highest priority first."""
        hits = [c.rule for c in self._candidates(ctx, False).values() if c.matches(ctx)]
        return by_priority(hits)

    def pins_to_read(self, ctx: RuleContext) -> set[str]:
        """The pinned items of the rules that may match (categories unknown yet): their
        catalogue entries and the user's purchases of them are read with the candidates', so
        a pin's eligibility is checked like any offer's."""
        return {
            item
            for c in self._candidates(ctx, True).values()
            if c.rule.then.pin and c.matches(ctx, any_category=True)
            for item in c.rule.then.pin
        }
