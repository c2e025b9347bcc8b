"""``GET /v1/items/{item_id}/bundle``: "buy all three" for a product page or a cart (the
anchor and the 1-2 partners most likely to be bought whole with it, priced with the bundle
discount within the margin floor: xsell/engine/bundles.py, models/bundles.py)."""

from __future__ import annotations

import json
import time
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Response

from xsell.api.deps import Caller, QueryUser, Runtime, checked_id
from xsell.api.errors import BAD_INPUT, FORBIDDEN, NO_KEY, NOT_FOUND, UNAVAILABLE, Responses
from xsell.models.experiments import CONTROL
from xsell.models.messages.bundles import BundleAnswer

router = APIRouter()
ERRORS: Responses = {**BAD_INPUT, **NO_KEY, **FORBIDDEN, **NOT_FOUND, **UNAVAILABLE}
MIN_SIZE, MAX_SIZE = 2, 3  # the anchor and 1-2 partners (docs/contract.md, "Bundles")


def checked_size(size: int | None) -> int:
    """The bundle's item count, anchor included: 2 or 3 (default 3); 400 else."""
    if size is None:
        return MAX_SIZE
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise HTTPException(400, f"size: must be {MIN_SIZE} or {MAX_SIZE} (the anchor included)")
    return size


@router.get(
    "/v1/items/{item_id}/bundle",
    response_model=BundleAnswer,
    responses=ERRORS,
    summary="Buy all three: the item and the partners most often bought whole with it",
)
async def bundle(
    rt: Runtime,
    access: Caller,
    item_id: Annotated[str, Path(description="An id (1..128 printable characters).")],
    user: QueryUser,
    size: Annotated[
        int | None, Query(description="Items of the bundle, the anchor included: 2 or 3.")
    ] = None,
) -> Response:
    item = checked_id(item_id, "item_id", rt)
    wanted = checked_size(size)
    if rt.variant(user) == CONTROL:
        raise HTTPException(404, "no bundle: the user is in the holdout (control) variant")
    answer = await rt.redis(rt.bundler.bundle(item, user, wanted))
    if answer is None:
        raise HTTPException(
            404,
            f"no bundle for this item: no partner (of another category, available, not owned) "
            f"with at least XSELL_BUNDLE_MIN_SUPPORT={rt.settings.offers.bundle_min_support:g} "
            "orders together",
        )
    if user is not None:  # an impression of the user's variant (docs/contract.md, "Bundles")
        await rt.redis(
            rt.store.attribution.record_bundle(answer, user, rt.variant(user), time.time())
        )
    return Response(json.dumps(answer), media_type="application/json")
