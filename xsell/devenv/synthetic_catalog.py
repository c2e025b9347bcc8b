"""The synthetic shop's catalogue: departments, their add-on categories, names, prices, stock.

Split from :mod:`xsell.devenv.synthetic_shop` (which generates orders and carts over it); the
generative model is described there. Each department is an *anchor* category with 2-3
complementary *add-on* categories; anchor prices spread around a department median, add-ons
cost 2-30% of it, so an add-on is always cheaper than any of its anchors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from xsell.models.events import CatalogItem

Addon = tuple[str, str, float, float]  # (category, noun, min, max share of the anchor median)
Weights = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Department:
    """An anchor category (also the id prefix of its items) and its add-on categories."""

    anchor: str
    noun: str
    median_price: float
    addons: tuple[Addon, ...]


DEPARTMENTS: tuple[Department, ...] = (
    Department(
        "phone",
        "Smartphone",
        700.0,
        (
            ("phone-case", "Case", 0.03, 0.07),
            ("screen-protector", "Screen Protector", 0.02, 0.04),
            ("charger", "Charger", 0.03, 0.06),
        ),
    ),
    Department(
        "laptop",
        "Laptop",
        1200.0,
        (
            ("laptop-bag", "Laptop Bag", 0.03, 0.08),
            ("mouse", "Wireless Mouse", 0.02, 0.05),
            ("usb-hub", "USB-C Hub", 0.02, 0.05),
        ),
    ),
    Department(
        "coffee",
        "Coffee Beans 1kg",
        18.0,
        (("pastry", "Croissant", 0.12, 0.2), ("sandwich", "Sandwich", 0.22, 0.3)),
    ),
    Department(
        "camera",
        "Camera",
        900.0,
        (
            ("memory-card", "Memory Card", 0.02, 0.06),
            ("tripod", "Tripod", 0.05, 0.15),
            ("camera-bag", "Camera Bag", 0.05, 0.1),
        ),
    ),
    Department(
        "tv",
        "Smart TV",
        800.0,
        (
            ("hdmi-cable", "HDMI Cable", 0.01, 0.03),
            ("wall-mount", "Wall Mount", 0.04, 0.1),
            ("soundbar", "Soundbar", 0.15, 0.3),
        ),
    ),
    Department(
        "console",
        "Game Console",
        450.0,
        (
            ("controller", "Controller", 0.12, 0.16),
            ("game", "Game", 0.1, 0.15),
            ("headset", "Gaming Headset", 0.08, 0.2),
        ),
    ),
    Department(
        "bike",
        "Bicycle",
        900.0,
        (
            ("helmet", "Helmet", 0.05, 0.12),
            ("bike-lock", "Bike Lock", 0.03, 0.08),
            ("bike-light", "Bike Light", 0.02, 0.05),
        ),
    ),
    Department(
        "printer",
        "Printer",
        250.0,
        (("ink", "Ink Cartridge", 0.08, 0.2), ("paper", "Paper 500 sheets", 0.03, 0.06)),
    ),
    Department(
        "shoes",
        "Running Shoes",
        120.0,
        (("socks", "Sport Socks", 0.08, 0.15), ("insoles", "Insoles", 0.15, 0.25)),
    ),
    Department(
        "grill",
        "Grill",
        400.0,
        (
            ("grill-tools", "Grill Tool Set", 0.05, 0.1),
            ("grill-cover", "Grill Cover", 0.06, 0.12),
            ("charcoal", "Charcoal", 0.02, 0.04),
        ),
    ),
    Department(
        "tablet",
        "Tablet",
        550.0,
        (("stylus", "Stylus", 0.08, 0.2), ("tablet-cover", "Tablet Cover", 0.04, 0.09)),
    ),
    Department(
        "espresso",
        "Espresso Machine",
        350.0,
        (
            ("descaler", "Descaler", 0.02, 0.05),
            ("milk-jug", "Milk Jug", 0.04, 0.08),
            ("cups", "Espresso Cups", 0.05, 0.1),
        ),
    ),
)
COMPLEMENTS: dict[str, tuple[str, ...]] = {
    d.anchor: tuple(a[0] for a in d.addons) for d in DEPARTMENTS
}
_BRANDS = ("Acme", "Nova", "Orbit", "Zenit", "Lumo", "Kestrel", "Vanta", "Polar")
_TIERS = ("Lite", "", "Plus", "Pro", "Max")
_COLOURS = ("Black", "White", "Clear", "Blue", "Red", "Green", "Grey")


def _price(value: float) -> float:
    """A shop-like price: 18.4 -> 18.39, 712.3 -> 711.99."""
    return round(max(round(value, 1 if value < 20 else 0) - 0.01, 0.49), 2)


def zipf_weights(n: int, rng: np.random.Generator, s: float = 1.1) -> Weights:
    """Normalised Zipf-like weights 1/rank^s over a random ranking of n things."""
    w = 1.0 / (rng.permutation(n) + 1.0) ** s
    return np.asarray(w / w.sum(), dtype=np.float64)


def pick(rng: np.random.Generator, ids: Sequence[str], p: Weights | None = None) -> str:
    """One of ``ids``, drawn with probabilities ``p`` (uniform when None)."""
    return ids[int(rng.choice(len(ids), p=p))]


def unique_names(names: Sequence[str]) -> list[str]:
    """The names, each repeated one numbered (``Acme Case Black``, ``Acme Case Black 2``):
    a shopper cannot tell two offers of the same name apart."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} {seen[name]}")
    return out


def make_catalog(seed: int = 0, n_categories: int = 10) -> list[CatalogItem]:
    """The catalogue of the first ``n_categories`` departments (1..12; 10 give ~250 items)."""
    if not 1 <= n_categories <= len(DEPARTMENTS):
        raise ValueError(f"n_categories must be 1..{len(DEPARTMENTS)}, got {n_categories}")
    rng = np.random.default_rng([seed, 0])
    rows: list[tuple[str, str, str, float, str]] = []  # id, name, category, price, role
    for dep in DEPARTMENTS[:n_categories]:
        n = int(rng.integers(8, 13))
        prices = dep.median_price * np.exp(rng.uniform(-0.55, 0.55, n))
        ranks = np.argsort(np.argsort(prices))
        for i in range(n):
            tier = _TIERS[int(ranks[i]) * len(_TIERS) // n]
            name = f"{pick(rng, _BRANDS)} {dep.noun} {i + 1} {tier}".strip()
            rows.append((f"{dep.anchor}-{i + 1:02d}", name, dep.anchor, float(prices[i]), "anchor"))
        for category, noun, lo, hi in dep.addons:
            for i in range(int(rng.integers(4, 7))):
                price = dep.median_price * float(rng.uniform(lo, hi))
                name = f"{pick(rng, _BRANDS)} {noun} {pick(rng, _COLOURS)}"
                rows.append((f"{category}-{i + 1:02d}", name, category, price, "addon"))
    order, k = rng.permutation(len(rows)).tolist(), max(2, len(rows) // 25)
    zero, over = set(order[:k]), set(order[k : 2 * k])
    inactive = set(order[2 * k : 2 * k + max(2, len(rows) // 30)])
    items = []
    names = unique_names([row[1] for row in rows])
    for j, (item_id, _, category, price, role) in enumerate(rows):
        stock = 0 if j in zero else rng.integers(800, 3000) if j in over else rng.integers(3, 150)
        items.append(
            CatalogItem(
                item_id=item_id,
                category=category,
                price=_price(price),
                stock=float(stock),
                active=j not in inactive,
                name=names[j],
                extra={"role": role},
            )
        )
    return items
