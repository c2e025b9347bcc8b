"""Bundles on request (``GET /v1/items/{item_id}/bundle``): the store's reads, the pure choice
and price of models/bundles.py, and the answer of the contract (docs/contract.md, "Bundles").

Merchant rules plug in as ``hide`` (a :data:`xsell.models.bundles.BundleFilter`): it sees the
eligible partners of an anchor and returns those that may appear in its bundle."""

from __future__ import annotations

from typing import Any

from xsell.config.settings import Settings
from xsell.engine.params import rank_params
from xsell.models.bundles import (
    Bundle,
    BundleData,
    BundleFilter,
    bundle_id,
    bundle_pricing,
    choose_bundle,
    eligible_partners,
    evidence_of,
    keep_all,
)
from xsell.models.events import CatalogItem
from xsell.models.rules import RuleParams
from xsell.store import Store


class Bundler:
    """Builds bundle answers from the store's statistics (module doc)."""

    def __init__(self, store: Store, settings: Settings, hide: BundleFilter = keep_all) -> None:
        self.store = store
        self.settings = settings
        self.hide = hide
        self.rules = rank_params(settings).rules

    async def bundle(self, anchor: str, user_id: str | None, size: int) -> dict[str, Any] | None:
        """The bundle answer of ``anchor`` with ``size`` items (anchor included), or None when
        no bundle has enough evidence."""
        data = await self.store.bundles.bundle_data(anchor, user_id)
        chosen = choose_from(data, self.settings, size, self.rules, self.hide)
        if chosen is None:
            return None
        return bundle_answer(chosen, data, user_id, self.settings)


def choose_from(
    data: BundleData,
    settings: Settings,
    size: int,
    rules: RuleParams,
    hide: BundleFilter = keep_all,
) -> Bundle | None:
    """The chosen bundle of what the store read (models/bundles.py)."""
    ev = evidence_of(data, settings.learning.half_life_seconds)
    candidates = eligible_partners(data, rules, hide)
    categories = {b: (item.category if item else None) for b, item in _entries(data, candidates)}
    offers = settings.offers
    return choose_bundle(
        ev, candidates, categories, size, offers.bundle_min_support, offers.bundle_lift_prior
    )


def _entries(data: BundleData, items: list[str]) -> list[tuple[str, CatalogItem | None]]:
    return [(i, data.catalog.get(i)) for i in items]


def bundle_answer(
    chosen: Bundle, data: BundleData, user_id: str | None, settings: Settings
) -> dict[str, Any]:
    """The contract's bundle answer (models/messages/bundles.py) of a chosen bundle."""
    offers = settings.offers
    entries = _entries(data, list(chosen.items))
    pricing = bundle_pricing(
        [e.price if e else None for _, e in entries],
        [e.cost if e else None for _, e in entries],
        offers.bundle_discount_percent,
        offers.bundle_min_margin_percent,
    )
    n_anchor = chosen.together[0] / chosen.confidence[0] if chosen.confidence[0] > 0 else 0.0
    answer: dict[str, Any] = {
        "bundle_id": bundle_id(chosen.items),
        "user_id": user_id,
        "items": [
            {
                "item_id": i,
                "name": e.name if e else None,
                "price": e.price if e else None,
                "category": e.category if e else None,
            }
            for i, e in entries
        ],
        "list_price": pricing.list_price,
        "discount_percent": pricing.discount_percent,
        "bundle_price": pricing.bundle_price,
        "because": {
            "item_id": chosen.anchor,
            "orders": round(n_anchor, 6),
            "partners": [
                {"item_id": b, "together": round(t, 6), "confidence": round(c, 6)}
                for b, t, c in zip(chosen.partners, chosen.together, chosen.confidence, strict=True)
            ],
            "partners_together": None
            if chosen.partners_together is None
            else round(chosen.partners_together, 6),
        },
        "expected_attach": round(min(chosen.expected_attach, 1.0), 6),
    }
    if offers.bundle_loyalty_points > 0:
        answer["incentive"] = {"loyalty_points": offers.bundle_loyalty_points}
    return answer
