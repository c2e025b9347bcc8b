"""Business rules of cross-selling, as pure predicates over candidates.

Shops' rules of thumb, each a small function so it can be tested and explained:
never offer what is in the cart or was just bought; never what the user already owns (durable
goods), unless it is a consumable bought longer ago than the repurchase window; never what is
out of stock or inactive; a pricier item of the anchor's own category is an *upsell*, not a
cross-sell; add-ons are usually cheaper than the item that triggered them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from xsell.models.events import CatalogItem


@dataclass(frozen=True, slots=True)
class RuleParams:
    exclude_upsell: bool = True
    addon_price_ratio: float = 0.0  # > 0: candidate price must be <= ratio * anchor price
    exclude_purchased: bool = True
    consumable_categories: frozenset[str] = frozenset()
    repurchase_window_seconds: float = 30 * 86400.0


def is_available(item: CatalogItem | None) -> bool:
    """Unknown items are available; known ones must be active and not out of stock."""
    if item is None:
        return True
    return item.active and (item.stock is None or item.stock > 0)


def owned(
    item_id: str,
    history: Mapping[str, float],
    catalog: Mapping[str, CatalogItem],
    now: float,
    params: RuleParams,
) -> bool:
    """True when the user bought ``item_id`` and should not be offered it again.

    Consumables (their category listed in ``consumable_categories``) become offerable again
    once the repurchase window has passed since the last purchase.
    """
    if not params.exclude_purchased or item_id not in history:
        return False
    item = catalog.get(item_id)
    if item is not None and item.category in params.consumable_categories:
        return now - history[item_id] < params.repurchase_window_seconds
    return True


def is_upsell(candidate: CatalogItem | None, anchor: CatalogItem | None) -> bool:
    """Same category as the anchor and pricier: an upgrade of the same item (upselling)."""
    if candidate is None or anchor is None or candidate.category is None:
        return False
    if candidate.category != anchor.category:
        return False
    if candidate.price is None or anchor.price is None:
        return False
    return candidate.price > anchor.price


def within_addon_price(
    candidate: CatalogItem | None, anchor: CatalogItem | None, ratio: float
) -> bool:
    """The add-on price rule: price <= ratio x anchor price (passes when off or prices unknown)."""
    if ratio <= 0 or candidate is None or anchor is None:
        return True
    if candidate.price is None or anchor.price is None:
        return True
    return candidate.price <= ratio * anchor.price
