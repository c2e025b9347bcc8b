"""Who sees which variant: deterministic buckets, a holdout, and per-variant ranking overrides.

A user's bucket is ``sha256(salt, unit) mod 10000`` (Braze's 0..9999): the same user gets the
same variant on every worker and API instance, with no state, until the salt changes. The
lowest ``holdout_percent`` of the buckets form ``control``: those users get suggestion
messages with no items (the storefront shows nothing), while their orders still count, so the
uplift of every other variant is measured against the same shop without offers. The other
buckets are split among the variants by weight, in order.

The unit is the user id; an anonymous purchase (no user) is assigned by its order id, so a
guest checkout is never held out by chance twice in a row for the same order; cart events
always have a user id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

BUCKETS = 10_000
CONTROL = "control"
DEFAULT = "default"  # the variant of everybody when no experiment is configured


@dataclass(frozen=True, slots=True)
class Variant:
    name: str
    weight: float = 1.0
    similarity: str | None = None  # ranking overrides; None = the settings' value
    max_suggestions: int | None = None


@dataclass(frozen=True, slots=True)
class Experiment:
    name: str
    salt: str
    variants: tuple[Variant, ...]
    holdout_percent: float = 0.0

    @property
    def names(self) -> tuple[str, ...]:
        """Every variant a user can get, control first when there is a holdout."""
        own = tuple(v.name for v in self.variants)
        return (CONTROL, *own) if self.holdout_percent > 0 else own


def bucket(salt: str, unit: str) -> int:
    """The unit's bucket in 0..9999: uniform, stable, independent across salts."""
    digest = hashlib.sha256(f"{salt}\x00{unit}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def variant_of(experiment: Experiment, unit: str | None) -> str:
    """The variant of ``unit`` (a user id, or an order id for a guest); no unit: the first
    variant (never the holdout: a message nobody can be attributed to measures nothing)."""
    if unit is None:
        return experiment.variants[0].name
    b = bucket(experiment.salt, unit)
    held = round(experiment.holdout_percent * BUCKETS / 100)
    if b < held:
        return CONTROL
    return _by_weight(experiment.variants, (b - held) / max(BUCKETS - held, 1))


def _by_weight(variants: Sequence[Variant], share: float) -> str:
    """The variant whose cumulative weight share covers ``share`` in [0, 1)."""
    total = sum(v.weight for v in variants)
    edge = 0.0
    for v in variants:
        edge += v.weight / total
        if share < edge:
            return v.name
    return variants[-1].name


def single(holdout_percent: float = 0.0, salt: str = "xsell") -> Experiment:
    """The experiment when none is configured: one variant, ``default``, and the optional
    holdout of ``XSELL_AB_HOLDOUT_PERCENT``."""
    return Experiment("default", salt, (Variant(DEFAULT),), holdout_percent)
