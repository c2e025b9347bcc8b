"""Post-purchase suggestions with followed-by partners: the engine's read of them and the blend
(models/post_purchase.py), between assembling the inputs and reading their details."""

from __future__ import annotations

from collections.abc import Sequence

from xsell.config.settings import Settings
from xsell.engine.followed_tuning import FollowedTuning, Shortlists
from xsell.models.post_purchase import order_params, wants_followed
from xsell.models.post_purchase import with_followed as blended
from xsell.models.ranking import RankInput, RankParams, RankRequest
from xsell.models.scoring import BatchStats, Scored, score_batch
from xsell.store import Store


async def with_followed(
    store: Store,
    settings: Settings,
    inputs: list[RankInput],
    requests: Sequence[RankRequest],
    params: RankParams,
    tuner: FollowedTuning | None = None,
    tuned: frozenset[int] = frozenset(),
) -> tuple[list[RankInput], dict[int, Shortlists]]:
    """The post-purchase ``inputs`` with the followed-by partners of the bought items blended
    in, and the followed-by weight tuner's shortlists of the ``tuned`` post-purchase rows
    (xsell/engine/followed_tuning.py); one more read (the bought items' follow-ups), only for
    a batch that has such requests, so that their details (catalogue, the user's purchases) are
    read with the others'."""
    rows = [n for n, r in enumerate(requests) if wants_followed(r, params)]
    tests = [] if tuner is None or params.followed_days <= 0 else sorted(tuned)
    if not rows and not tests:
        return inputs, {}
    anchors = {a for n in {*rows, *tests} for a in inputs[n].anchors}
    stored = await store.ranking.followed(sorted(anchors))
    half_life = settings.learning.half_life_seconds
    out = list(inputs)
    for n in rows:
        own = order_params(params) if requests[n].placement == "post_purchase" else params
        out[n] = blended(inputs[n], stored, own, half_life, alone=requests[n].followed_only)
    if tuner is None:
        return out, {}
    own = order_params(params)
    return out, {n: tuner.shortlists(inputs[n], stored, own, half_life) for n in tests}


def with_shortlists(
    per_request: list[list[str]], shortlists: dict[int, Shortlists]
) -> list[list[str]]:
    """Each request's items to read details of, with its tuning shortlists' (sorted)."""
    out = list(per_request)
    for n, lists in shortlists.items():
        out[n] = sorted({*out[n], *(i for lst in lists for i in lst)})
    return out


def score_by_placement(
    stats: BatchStats, requests: Sequence[RankRequest], params: RankParams, top: int
) -> list[Scored]:
    """:func:`score_batch` of each request, a post-purchase one with every item of its order
    weighted alike (models/post_purchase.py ORDER_RECENCY), the others with ``params``."""
    orders = [n for n, r in enumerate(requests) if r.placement == "post_purchase"]
    if not orders:
        return score_batch(stats, requests, params, top)
    others = [n for n in range(len(requests)) if n not in set(orders)]
    out: list[Scored] = [{} for _ in requests]
    for rows, own in ((orders, order_params(params)), (others, params)):
        if rows:
            got = score_batch(stats, [requests[n] for n in rows], own, top)
            for n, scored in zip(rows, got, strict=True):
                out[n] = scored
    return out
