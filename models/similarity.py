"""Item-item similarity from co-occurrence counts: small, pure, vectorisable functions.

Notation: ``c_ab`` = (decayed) number of orders holding both a and b, ``c_a``/``c_b`` = orders
holding a / b, ``n`` = all orders. Every function accepts floats or numpy arrays, returns 0 where
a denominator is 0, and is symmetric unless its docstring says otherwise. These are the same
measures as microsoft/recommenders' ``python_utils`` (jaccard, lift), in scalar form.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Number = Any  # float or numpy array


def _safe_div(num: Number, den: Number) -> Number:
    num_arr = np.asarray(num, dtype=np.float64)
    den_arr = np.asarray(den, dtype=np.float64)
    out = np.divide(
        num_arr, den_arr, out=np.zeros(np.broadcast(num_arr, den_arr).shape), where=den_arr > 0
    )
    return out if out.ndim else float(out)


def count(c_ab: Number, c_a: Number, c_b: Number, n: Number) -> Number:
    """Raw co-occurrence: simple, but favours whatever is popular."""
    return _safe_div(c_ab, 1.0)


def jaccard(c_ab: Number, c_a: Number, c_b: Number, n: Number) -> Number:
    """|A∩B| / |A∪B|: overlap of the two buyer sets; penalises popular b as much as popular a."""
    return _safe_div(c_ab, np.asarray(c_a) + np.asarray(c_b) - np.asarray(c_ab))


def lift(c_ab: Number, c_a: Number, c_b: Number, n: Number) -> Number:
    """P(a,b) / (P(a) P(b)): how much more often than chance; noisy for rare items."""
    return _safe_div(np.asarray(c_ab) * np.asarray(n), np.asarray(c_a) * np.asarray(c_b))


def confidence(c_ab: Number, c_a: Number, c_b: Number, n: Number) -> Number:
    """P(b | a) = c_ab / c_a (asymmetric): the share of a's buyers who also bought b.

    This is the number shown to shoppers ("bought together by 42% of buyers of X").
    """
    return _safe_div(c_ab, c_a)


def cosine(c_ab: Number, c_a: Number, c_b: Number, n: Number) -> Number:
    """c_ab / sqrt(c_a c_b): Jaccard's smoother cousin (Ochiai coefficient)."""
    return _safe_div(c_ab, np.sqrt(np.asarray(c_a) * np.asarray(c_b)))


ASYM_ALPHA = 0.9
"""Measured on Online Retail II and The Complete Journey (docs/evaluation.md): 0.9 keeps most of
confidence's strength while damping the pull of the most popular partners."""


def asym_cosine(c_ab: Number, c_a: Number, c_b: Number, n: Number) -> Number:
    """c_ab / (c_a^alpha c_b^(1-alpha)) (Aiolli 2013): between confidence and cosine."""
    den = np.power(np.asarray(c_a, dtype=np.float64), ASYM_ALPHA) * np.power(
        np.asarray(c_b, dtype=np.float64), 1.0 - ASYM_ALPHA
    )
    return _safe_div(c_ab, den)


SimilarityFn = Callable[[Number, Number, Number, Number], Number]
SIMILARITIES: dict[str, SimilarityFn] = {
    "count": count,
    "jaccard": jaccard,
    "lift": lift,
    "confidence": confidence,
    "cosine": cosine,
    "asym_cosine": asym_cosine,
}
