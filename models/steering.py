"""Merchant rules applied to ranked offers, purely (docs/rules.md).

The engine ranks a request's whole eligible pool (:func:`xsell.models.ranking.rank` with no
cut), then :func:`steer` applies the rules that match the request and cuts to k. Each step is
a small function, so each semantic is tested on its own:

- :mod:`xsell.models.rulebook`: which rules match (every present ``when`` field);
- :func:`blocker`: hide, hide_categories, only_categories and max_price_ratio keep an item out;
- :func:`pinned`: pins first, in priority then listed order, when eligible;
- :func:`boosted`: boosts multiply scores, and a boosted offer moves up past lower scores;
- :func:`promoted`: a promote rule's tag gets its slots when evidence allows.

A conflict between a pin and a rule that keeps the item out goes to the higher priority (the
larger number); on a tie the item stays out, the safer reading of a merchant's intent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from xsell.models.coview import ranked
from xsell.models.events import CatalogItem
from xsell.models.messages.merchant import StoredRule
from xsell.models.ranking import Because, Offer, RankInput, RankParams, RankRequest
from xsell.models.rebuy_offers import with_rebuys
from xsell.models.rulebook import RuleBook, RuleContext, by_priority
from xsell.models.rules import is_available, owned
from xsell.models.segments import Segment, rule_names


def blocker(
    item_id: str, item: CatalogItem | None, rules: Sequence[StoredRule], top_price: float | None
) -> StoredRule | None:
    """The highest-priority rule (``rules`` come sorted) that keeps the item out, else None.
    ``only_categories`` keeps out an item with another or no category; ``max_price_ratio``
    one priced above ratio x ``top_price`` (unknown prices pass: nothing to compare)."""
    category = item.category if item is not None else None
    price = item.price if item is not None else None
    for rule in rules:
        t = rule.then
        if (
            item_id in t.hide
            or (category is not None and category in t.hide_categories)
            or (t.only_categories is not None and category not in t.only_categories)
            or (
                t.max_price_ratio is not None
                and price is not None
                and top_price is not None
                and price > t.max_price_ratio * top_price
            )
        ):
            return rule
    return None


def filters(rule: StoredRule) -> bool:
    """Whether the rule can keep an item out at all: only those are checked per item."""
    t = rule.then
    return bool(t.hide or t.hide_categories) or (
        t.only_categories is not None or t.max_price_ratio is not None
    )


def labelled(offer: Offer, rule_id: str, anchor: str) -> Offer:
    """``offer`` explained as placed by ``rule_id``; an offer without a co-purchase reason
    becomes a cross-sell of the first anchor with together 0 (the rule is the reason)."""
    if offer.because is None or offer.kind == "popular":
        return replace(offer, kind="cross_sell", because=Because(anchor, 0.0, 0.0, rule_id=rule_id))
    return replace(offer, because=replace(offer.because, rule_id=rule_id))


def pinned(
    rules: Sequence[StoredRule],
    pool: Mapping[str, Offer],
    eligible: Callable[[str], bool],
    is_blocked: Callable[[str, int], bool],
    anchor: str,
    top_score: float,
) -> list[Offer]:
    """The pins of the rules, highest priority first and each in its listed order: only
    eligible items (active, in stock, not in the cart, not owned) that no rule of at least
    the pin's priority keeps out. A pin ranks first whatever its score: its score is raised
    to the best of the pool, so scores still read best first."""
    out: dict[str, Offer] = {}
    for rule in rules:
        for item_id in rule.then.pin:
            if item_id in out or not eligible(item_id) or is_blocked(item_id, rule.priority):
                continue
            base = pool.get(item_id) or Offer(item_id, 0.0, "cross_sell", None)
            offer = labelled(base, rule.rule_id, anchor)
            out[item_id] = replace(offer, score=max(offer.score, top_score))
    return list(out.values())


@dataclass(frozen=True, slots=True)
class Boosts:
    """The boosts of the matching rules, in priority then listed order, indexed by item and
    by tag: each offer looks up its own instead of scanning every rule's boosts (with 1,000
    rules a request may match dozens; docs/benchmarks.md#merchant-rules-issue-22)."""

    factors: tuple[tuple[float, str], ...]  # (factor, rule id) of each boost, in order
    by_item: Mapping[str, tuple[int, ...]]  # item -> its boosts' positions in ``factors``
    by_tag: Mapping[str, tuple[int, ...]]

    @classmethod
    def of(cls, rules: Sequence[StoredRule]) -> Boosts:
        factors: list[tuple[float, str]] = []
        by_item: dict[str, list[int]] = {}
        by_tag: dict[str, list[int]] = {}
        for rule in rules:
            for b in rule.then.boost:
                key, index = (b.item, by_item) if b.item is not None else (b.tag, by_tag)
                if key is not None:
                    index.setdefault(key, []).append(len(factors))
                    factors.append((b.factor, rule.rule_id))
        return cls(
            tuple(factors),
            {k: tuple(v) for k, v in by_item.items()},
            {k: tuple(v) for k, v in by_tag.items()},
        )


def boost_of(item_id: str, item: CatalogItem | None, boosts: Boosts) -> tuple[float, str | None]:
    """The product of every matching boost of the item and of its tags (multiplied in the
    rules' order), and the highest priority rule among them (None: no boost)."""
    hits = set(boosts.by_item.get(item_id, ()))
    for tag in set(item.tags) if item is not None else ():
        hits.update(boosts.by_tag.get(tag, ()))
    if not hits:
        return 1.0, None
    order = sorted(hits)
    factor = 1.0
    for i in order:
        factor *= boosts.factors[i][0]
    return factor, boosts.factors[order[0]][1]


def boosted(
    offers: Sequence[Offer], catalog: Mapping[str, CatalogItem], rules: Sequence[StoredRule]
) -> list[Offer]:
    """Scores multiplied by their boosts. The unboosted offers keep their order (the ranker's:
    cross-sells before popular padding); each boosted one is placed before the first of them
    whose score its new score beats, so a boost moves an offer predictably by its score. A
    boosted cross-sell names the boosting rule in its reason (popular padding has none)."""
    boosts = Boosts.of(rules)
    if not boosts.factors:
        return list(offers)
    kept: list[Offer] = []
    moved: list[Offer] = []
    for offer in offers:
        factor, by = boost_of(offer.item_id, catalog.get(offer.item_id), boosts)
        if by is None:
            kept.append(offer)
            continue
        new = replace(offer, score=offer.score * factor)
        if offer.because is not None and offer.kind != "popular":
            new = replace(new, because=replace(offer.because, rule_id=by))
        moved.append(new)
    out = list(kept)
    for offer in sorted(moved, key=lambda o: -o.score):
        at = next((i for i, o in enumerate(out) if o.score < offer.score), len(out))
        out.insert(at, offer)
    return out


def has_evidence(offer: Offer) -> bool:
    """Co-purchase evidence with the trigger: at least one order held both (a category's
    or the popularity prior's reason is not evidence about this item)."""
    b = offer.because
    return offer.kind != "popular" and b is not None and b.category is None and b.together > 0


def promoted(
    offers: list[Offer],
    fixed: int,
    k: int,
    rule: StoredRule,
    catalog: Mapping[str, CatalogItem],
) -> list[Offer]:
    """At least ``slots`` of the first ``k`` offers carry the rule's tag when tagged offers
    with evidence (and, with ``min_score_ratio``, that share of the best offer's score) are in
    the pool: the best of them take the places of the last untagged offers of the first k.
    The first ``fixed`` offers (pins) are never displaced."""
    promote = rule.then.promote
    if promote is None:
        return offers

    def tagged(o: Offer) -> bool:
        item = catalog.get(o.item_id)
        return item is not None and promote.tag in item.tags

    head, tail = offers[:k], offers[k:]
    missing = promote.slots - sum(1 for o in head if tagged(o))
    best = max((o.score for o in offers[fixed:]), default=0.0)
    floor = (promote.min_score_ratio or 0.0) * best
    wanted = [o for o in tail if tagged(o) and has_evidence(o) and o.score >= floor]
    for candidate in wanted[: max(missing, 0)]:
        victims = [i for i in range(fixed, len(head)) if not tagged(head[i])]
        if not victims:
            break
        at = victims[-1]
        tail.remove(candidate)
        tail.insert(0, head[at])
        head[at] = labelled(candidate, rule.rule_id, "")
    head[fixed:] = sorted(head[fixed:], key=lambda o: -o.score)  # still best first
    return head + tail


def steer(
    pool: Sequence[Offer],
    rules: Sequence[StoredRule],
    k: int,
    catalog: Mapping[str, CatalogItem],
    anchors: Sequence[str],
    eligible: Callable[[str], bool],
) -> list[Offer]:
    """At most ``k`` offers: ``pool`` (the ranker's eligible offers, best first, uncut) with
    ``rules`` (the matching ones) applied, highest priority first: filters, pins, boosts,
    then each promote in priority order."""
    if not rules:
        return list(pool[:k])
    rules = by_priority(rules)
    filtering = [r for r in rules if filters(r)]  # in priority order, as blocker() wants
    prices = [p for a in anchors if (c := catalog.get(a)) is not None and (p := c.price)]
    top_price = max(prices) if prices else None

    def is_blocked(item_id: str, priority: int) -> bool:
        rule = blocker(item_id, catalog.get(item_id), filtering, top_price)
        return rule is not None and rule.priority >= priority

    by_item = {o.item_id: o for o in pool}
    top_score = max((o.score for o in pool), default=0.0)
    anchor = anchors[0] if anchors else ""
    pins = pinned(rules, by_item, eligible, is_blocked, anchor, top_score)[:k]
    taken = {o.item_id for o in pins}
    rest = [
        o
        for o in pool
        if o.item_id not in taken
        and blocker(o.item_id, catalog.get(o.item_id), filtering, top_price) is None
    ]
    offers = pins + boosted(rest, catalog, rules)
    for rule in rules:
        offers = promoted(offers, len(pins), k, rule, catalog)
    return offers[:k]


POOL = 10_000  # the ranker's cut when rules apply: every eligible candidate (at most ~5k + 30)


def context(req: RankRequest, inp: RankInput, now: float) -> RuleContext:
    """A request's rule context: its anchors, their catalogue categories and the user's
    segment names (matched when the request names no segment)."""
    cats = {c.category for a in inp.anchors if (c := inp.catalog.get(a)) and c.category}
    names = frozenset() if inp.segment is None else rule_names(inp.segment)
    return RuleContext(
        req.placement, frozenset(inp.anchors), frozenset(cats), req.segment, now, names
    )


def offers_with_rules(
    inp: RankInput, req: RankRequest, params: RankParams, book: RuleBook, now: float
) -> list[Offer]:
    """The offers of one request: the ranker's, or, when rules match, its uncut pool
    steered by them. A pin is eligible as any offer is: available, not in the cart or the
    trigger, not owned. Then the user's due rebuys (models/rebuy_offers.py)."""
    hits = book.matching(context(req, inp, now)) if book else []
    if not hits:
        return with_rebuys(ranked(inp, params), inp, params.k, params.rebuy)

    def eligible(item_id: str) -> bool:
        return (
            item_id not in inp.exclude
            and is_available(inp.catalog.get(item_id))
            and not owned(item_id, inp.history, inp.catalog, inp.now, params.rules)
        )

    pool = ranked(inp, replace(params, k=POOL))
    steered = steer(pool, hits, params.k, inp.catalog, inp.anchors, eligible)
    return with_rebuys(steered, inp, params.k, params.rebuy)


def with_pins(
    per_request: list[list[str]],
    requests: Sequence[RankRequest],
    book: RuleBook,
    segments: Mapping[str, Segment],
    now: float,
) -> list[list[str]]:
    """Each request's items to read details of, with the pins of the rules that may match it
    (``segments``: the users' computed segments), so a pin's eligibility is checked like any
    offer's."""
    if not book:
        return per_request
    out = []
    for items, r in zip(per_request, requests, strict=True):
        seg = segments.get(r.user_id or "")
        names = frozenset() if seg is None else rule_names(seg)
        ctx = RuleContext(r.placement, frozenset(r.anchors), frozenset(), r.segment, now, names)
        pins = book.pins_to_read(ctx)
        out.append(sorted(set(items) | pins) if pins else items)
    return out
