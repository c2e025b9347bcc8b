"""``xsell eval --promote-share S``: what a promote rule costs and how often it gets its slot.

A seeded random share S of the training items is tagged ``promoted`` in the catalogue; the
rule is ``{"then": {"promote": {"tag": "promoted", "slots": 1}}}`` (docs/rules.md). The split,
the training (bulk, a fresh namespace) and the replay of the test carts are the plain eval's
(xsell/evaluation/runner.py: ``Engine.process``, self-tuning included), with no rule saved.
For every suggestion the engine makes, the same ranking inputs are also given to the engine's
last step with the rule (:meth:`PairedEngine.offers`: the one ranking path,
``models.steering.offers_with_rules``), once per ``min_score_ratio`` of the curve. So each
trigger is ranked without and with the rule from identical inputs, in one replay: the HR@k
difference is the rule's alone, not the noise of two runs. The counts are in
:mod:`xsell.evaluation.promote_measure`.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from xsell.config.settings import Settings
from xsell.engine import Engine, tuning_status
from xsell.evaluation.promote_measure import (
    TAG,
    TARGET_HR_COST,
    THRESHOLDS,
    PromoteCounts,
    evidence_index,
    had_evidence,
    promote_rule,
    promoted_items,
    tagged_catalog,
    target_met,
)
from xsell.evaluation.protocol import EvalData
from xsell.evaluation.runner import SHOPPERS, eval_redis, replay
from xsell.models.coview import ranked
from xsell.models.events import CatalogItem, PurchaseEvent
from xsell.models.ranking import Offer, RankInput, RankParams, RankRequest
from xsell.models.rulebook import RuleBook
from xsell.models.steering import POOL, has_evidence, offers_with_rules
from xsell.ops.loading import load_history, progress_bar
from xsell.store import Store


@dataclass(frozen=True, slots=True)
class Paired:
    """One request ranked with each rule book, and what the counts need about it."""

    anchors: Sequence[str]  # as ranked (capped)
    cart: frozenset[str]
    ruled: list[list[str]]  # item ids per book
    reach: bool  # the pool without rules held a promoted item with evidence


class PairedEngine(Engine):
    """The engine, whose every ranking is also done with each of ``books`` from the same
    inputs; the results wait in :attr:`paired`, by user (one open cart per eval user)."""

    def __init__(self, store: Store, settings: Settings, books: Sequence[RuleBook]) -> None:
        super().__init__(store, settings)
        self.books = list(books)
        self.paired: dict[str, Paired] = {}

    def offers(
        self, inp: RankInput, req: RankRequest, params: RankParams, book: RuleBook | None
    ) -> list[Offer]:
        mine = super().offers(inp, req, params, book)
        if book is None and req.user_id is not None:
            now = time.time()
            pool = ranked(inp, replace(params, k=POOL))  # the pool the rules would see
            reach = any(
                has_evidence(o) and TAG in getattr(inp.catalog.get(o.item_id), "tags", ())
                for o in pool
            )
            ruled = [
                [o.item_id for o in offers_with_rules(inp, req, params, b, now)] for b in self.books
            ]
            self.paired[req.user_id] = Paired(inp.anchors, inp.exclude, ruled, reach)
        return mine


async def run_promote(
    settings: Settings,
    data: EvalData,
    catalog: Sequence[CatalogItem],
    promoted: frozenset[str],
    *,
    progress: bool,
    shoppers: int,
    ratios: Sequence[float] = THRESHOLDS,
) -> tuple[PromoteCounts, dict[str, Any] | None]:
    """Train, replay with the paired engine, count; and self-tuning's end state."""
    settings = settings.model_copy(update={"key_namespace": f"evalp-{uuid.uuid4().hex[:8]}"})
    counts = PromoteCounts(settings.ranking.max_suggestions, tuple(ratios))
    index = evidence_index(data.train, promoted, settings.learning.max_items_per_order)
    store = await Store.open(settings)
    try:
        await load_history(store, data.train, mode="auto", catalog=catalog)
        engine = PairedEngine(store, settings, [RuleBook([promote_rule(t)]) for t in ratios])

        def score(message: dict[str, Any], rest: set[str]) -> None:
            p = engine.paired.pop(message["user_id"], None)
            if p is None:  # an experiment's holdout: not ranked
                return
            base = [i["item_id"] for i in message["items"]]
            evidence = had_evidence(p.anchors, p.cart, index)
            counts.add(base, p.ruled, rest, promoted, evidence, p.reach)

        with progress_bar("eval", data.triggers, "triggers", enabled=progress) as bar:
            await replay(engine, data.sessions, shoppers, score, bar)
        tuning = await tuning_status(store, settings) if settings.tuning.enabled else None
    finally:
        await store.flush_namespace()
        await store.close()
    return counts, tuning


def evaluate_promote(
    settings: Settings,
    orders: Sequence[PurchaseEvent],
    dataset: str,
    share: float,
    *,
    seed: int = 0,
    catalog: Sequence[CatalogItem] = (),
    progress: bool = True,
    shoppers: int | None = None,
    ratios: Sequence[float] = THRESHOLDS,
) -> dict[str, Any]:
    """The report of ``xsell eval --promote-share`` (a private Redis unless XSELL_REDIS_URL
    is set); ``ratios``: the curve's min_score_ratio values, the first one the default's."""
    started = time.monotonic()
    ratios = (0.0, *sorted({r for r in ratios if r > 0}))  # the default rule always first
    data = EvalData.of(orders)
    promoted = promoted_items(data.catalogue, share, seed)
    tagged = tagged_catalog(catalog, promoted)

    def run(s: Settings) -> tuple[PromoteCounts, dict[str, Any] | None]:
        job = run_promote(
            s,
            data,
            tagged,
            promoted,
            progress=progress,
            shoppers=shoppers or SHOPPERS,
            ratios=ratios,
        )
        return asyncio.run(job)

    with eval_redis(settings) as local:
        counts, tuning = run(local)
    figures = counts.result(len(data.catalogue))
    default = figures["curve"][0]
    affordable = [p for p in figures["curve"] if p["hr_cost"] <= TARGET_HR_COST]
    return {
        "dataset": dataset,
        "k": counts.k,
        "train_orders": len(data.train),
        "test_orders": len(data.test),
        "promote_share": share,
        "seed": seed,
        "promoted_items": len(promoted),
        "rule": {"then": {"promote": {"tag": TAG, "slots": 1}}},  # = promote_rule(0.0)
        **figures,
        "hr_with_rule": default["hr"],
        "target_met": target_met(default),
        # the curve's point with the largest share at most 2% of HR@k cost (null: none)
        "best_within_cost": max(affordable, key=lambda p: p["share"], default=None),
        "tuning": tuning,
        "seconds": round(time.monotonic() - started, 1),
    }


def promote_table(rep: dict[str, Any]) -> str:
    """The report for people: HR@k without and with the rule, and the curve."""
    k, ev = rep["k"], max(rep["with_evidence"], 1)
    lines = [
        f"dataset {rep['dataset']}: {rep['train_orders']} train / {rep['test_orders']} test "
        f"orders, {rep['triggers']} triggers, k={k}, {rep['seconds']}s",
        f"promoted: {rep['promoted_items']} items ({rep['promote_share']:.0%}, seed "
        f"{rep['seed']}); rule {json.dumps(rep['rule'])}",
        f"triggers where a promoted item had evidence: {rep['with_evidence']} "
        f"({rep['with_evidence'] / max(rep['triggers'], 1):.1%}), in the ranker's reach "
        f"{rep['in_reach']} ({rep['in_reach'] / ev:.1%} of them)",
        f"HR@{k} without the rule {rep['hr_without_rule']:.4f}, with it "
        f"{rep['hr_with_rule']:.4f}; offers holding a promoted item where one had evidence, "
        f"without the rule: {rep['share_without_rule']:.1%}",
        f"{'min_score_ratio':>16}{'share':>9}{'in reach':>10}{f'HR@{k}':>9}{'HR cost':>9}",
    ]
    for p in rep["curve"]:
        lines.append(
            f"{p['min_score_ratio']:>16g}{p['share']:>9.1%}{p['share_in_reach']:>10.1%}"
            f"{p['hr']:>9.4f}{p['hr_cost']:>9.2%}"
        )
    lines.append(
        f"target (share >= 90%, HR@{k} cost <= 2%, at min_score_ratio 0): "
        + ("met" if rep["target_met"] else "not met")
    )
    best = rep["best_within_cost"]
    if best is not None:
        lines.append(
            f"most promoted within 2% of HR@{k}: min_score_ratio {best['min_score_ratio']:g}, "
            f"share {best['share']:.1%}, cost {best['hr_cost']:.2%}"
        )
    return "\n".join(lines)
