"""The free-shipping gap filler: when a cart is a little short of free shipping, one of its
offers is a good complement whose price closes the gap.

With a threshold T (XSELL_FREE_SHIPPING_THRESHOLD) and a cart total t (catalogue price x 1 per
cart item with a known price: the store keeps no quantities of a cart), the gap is T - t. When
0 < gap <= XSELL_FREE_SHIPPING_MAX_GAP, the best-scored candidate that an anchor explains, that
the rules allow and whose price lies in [gap, 1.5 gap] becomes the filler: it closes the gap
without doubling the spend. Why the upper bound: a filler at 10x the gap is not a nudge, and
the shop's margin on shipping is what pays for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from xsell.models.events import CatalogItem

GAP_CEILING = 1.5  # a filler costs at most this many times the gap


@dataclass(frozen=True, slots=True)
class FreeShipping:
    threshold: float
    max_gap: float


def cart_total(items: frozenset[str] | list[str], catalog: Mapping[str, CatalogItem]) -> float:
    """The cart's total: the catalogue price of each item with one (quantity 1 each)."""
    return sum(p for i in items if (e := catalog.get(i)) is not None and (p := e.price) is not None)


def shipping_gap(total: float, rule: FreeShipping | None) -> float | None:
    """What the cart lacks for free shipping, when a filler may close it: 0 < gap <= max gap."""
    if rule is None:
        return None
    gap = rule.threshold - total
    if gap <= 0 or gap > rule.max_gap:
        return None
    return round(gap, 2)


def fills(item: CatalogItem | None, gap: float) -> bool:
    """Priced between the gap and 1.5 times it."""
    return item is not None and item.price is not None and gap <= item.price <= GAP_CEILING * gap
