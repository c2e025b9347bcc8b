"""The support placement (models/support.py): what an agent can offer a customer from their
history, for ``GET /v1/users/{user_id}/recommendations?placement=support`` and ``xsell
support USER_ID``, through the engine's one ranking path."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from xsell.engine import Engine, segment_params
from xsell.models.experiments import CONTROL
from xsell.models.ranking import Offer
from xsell.models.segments import Segment, segment_of
from xsell.models.support import explained_by_owned, support_request

WIDEN = 4  # rank this many times k: popular padding and unexplained offers are dropped


@dataclass(frozen=True, slots=True)
class SupportView:
    """The offers, the owned items they were ranked from (newest first) and the segment."""

    offers: list[Offer]
    anchors: list[str]
    segment: Segment


async def support_view(engine: Engine, user_id: str, k: int, variant: str) -> SupportView:
    """Complements and followed-by partners of what ``user_id`` owns, never an owned item,
    each explained by the owned item it goes with; one read (clock, purchases, segment), then
    the ranking (which reads the owned items' follow-ups: xsell/engine/followed.py)."""
    clock, history, state, histogram = await engine.store.shoppers.purchases_and_segment(user_id)
    segment = segment_of(state, histogram, segment_params(engine.settings))
    now = clock if clock is not None else time.time()
    request = support_request(user_id, history, now, engine.settings.ranking.max_anchors)
    if request is None or variant == CONTROL:
        return SupportView([], [] if request is None else list(request.anchors), segment)
    own = engine.params_of[variant]
    (offers,) = await engine.rank([request], replace(own, k=min(k, own.k) * WIDEN))
    kept = explained_by_owned(offers, history)[: min(k, own.k)]
    return SupportView(kept, list(request.anchors), segment)
