"""xsell.models.similarity on the golden basket example, with hand-computed values.

Orders [a, b, c], [a, b], [b, d]: c_ab = 2 (orders 1 and 2), c_a = 2, c_b = 3, n = 3.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from xsell.models import similarity
from xsell.models.similarity import (
    ASYM_ALPHA,
    SIMILARITIES,
    asym_cosine,
    confidence,
    cosine,
    count,
    jaccard,
    lift,
)

ORDERS = [["a", "b", "c"], ["a", "b"], ["b", "d"]]
C_AB, C_A, C_B, N = 2.0, 2.0, 3.0, 3.0


def test_golden_counts_match_the_orders() -> None:
    assert sum(1 for o in ORDERS if "a" in o and "b" in o) == C_AB
    assert sum(1 for o in ORDERS if "a" in o) == C_A
    assert sum(1 for o in ORDERS if "b" in o) == C_B
    assert len(ORDERS) == N


def test_count_is_the_raw_co_occurrence() -> None:
    assert count(C_AB, C_A, C_B, N) == 2.0
    assert isinstance(count(C_AB, C_A, C_B, N), float)


def test_jaccard() -> None:
    # |A∩B| / |A∪B| = 2 / (2 + 3 - 2)
    assert jaccard(C_AB, C_A, C_B, N) == pytest.approx(2 / 3)
    assert jaccard(C_AB, C_B, C_A, N) == pytest.approx(2 / 3)  # symmetric


def test_lift() -> None:
    # c_ab n / (c_a c_b) = 2 * 3 / (2 * 3)
    assert lift(C_AB, C_A, C_B, N) == pytest.approx(1.0)
    assert lift(C_AB, C_B, C_A, N) == pytest.approx(1.0)


def test_confidence_is_asymmetric() -> None:
    assert confidence(C_AB, C_A, C_B, N) == pytest.approx(1.0)  # P(b | a): every a-buyer bought b
    assert confidence(C_AB, C_B, C_A, N) == pytest.approx(2 / 3)  # P(a | b)


def test_cosine() -> None:
    assert cosine(C_AB, C_A, C_B, N) == pytest.approx(2 / math.sqrt(6))
    assert cosine(C_AB, C_B, C_A, N) == pytest.approx(2 / math.sqrt(6))


def test_asym_cosine_uses_asym_alpha() -> None:
    expected = C_AB / (C_A**ASYM_ALPHA * C_B ** (1 - ASYM_ALPHA))
    assert asym_cosine(C_AB, C_A, C_B, N) == pytest.approx(expected)
    assert ASYM_ALPHA == 0.9  # the measured default (docs/evaluation.md)
    assert asym_cosine(C_AB, C_A, C_B, N) == pytest.approx(2 / (2**0.9 * 3**0.1))


@pytest.mark.parametrize(
    ("alpha", "expected"),
    [
        (1.0, 1.0),  # confidence P(b | a) = 2 / 2
        (0.0, 2 / 3),  # c_ab / c_b
        (0.25, 2 / (2**0.25 * 3**0.75)),
    ],
)
def test_asym_cosine_follows_alpha(
    monkeypatch: pytest.MonkeyPatch, alpha: float, expected: float
) -> None:
    monkeypatch.setattr(similarity, "ASYM_ALPHA", alpha)
    assert asym_cosine(C_AB, C_A, C_B, N) == pytest.approx(expected)


@pytest.mark.parametrize("name", sorted(SIMILARITIES))
def test_zero_denominators_give_zero(name: str) -> None:
    fn = SIMILARITIES[name]
    if name != "count":
        assert fn(0.0, 0.0, 0.0, 0.0) == 0.0
        assert fn(1.0, 0.0, 0.0, 0.0) == 0.0
    assert fn(0.0, 0.0, 0.0, 3.0) == 0.0


def test_specific_zero_denominators() -> None:
    assert confidence(1.0, 0.0, 5.0, 10.0) == 0.0  # unknown anchor count
    assert cosine(1.0, 4.0, 0.0, 10.0) == 0.0
    assert asym_cosine(1.0, 4.0, 0.0, 10.0) == 0.0
    assert lift(1.0, 4.0, 0.0, 10.0) == 0.0
    assert jaccard(0.0, 0.0, 0.0, 10.0) == 0.0


def test_registry_names() -> None:
    assert {
        "count": count,
        "jaccard": jaccard,
        "lift": lift,
        "confidence": confidence,
        "cosine": cosine,
        "asym_cosine": asym_cosine,
    } == SIMILARITIES


def test_numpy_arrays_are_elementwise() -> None:
    c_ab = np.array([2.0, 1.0, 0.0])
    c_a = np.array([2.0, 4.0, 0.0])
    c_b = np.array([3.0, 1.0, 5.0])
    n = np.array([3.0, 8.0, 9.0])

    np.testing.assert_allclose(count(c_ab, c_a, c_b, n), [2.0, 1.0, 0.0])
    np.testing.assert_allclose(jaccard(c_ab, c_a, c_b, n), [2 / 3, 1 / 4, 0.0])
    np.testing.assert_allclose(lift(c_ab, c_a, c_b, n), [1.0, 2.0, 0.0])
    np.testing.assert_allclose(confidence(c_ab, c_a, c_b, n), [1.0, 0.25, 0.0])
    np.testing.assert_allclose(cosine(c_ab, c_a, c_b, n), [2 / math.sqrt(6), 0.5, 0.0])
    np.testing.assert_allclose(
        asym_cosine(c_ab, c_a, c_b, n), [2 / (2**0.9 * 3**0.1), 1 / (4**0.9 * 1**0.1), 0.0]
    )
    for fn in SIMILARITIES.values():
        out = fn(c_ab, c_a, c_b, n)
        assert isinstance(out, np.ndarray)
        assert out.shape == (3,)


def test_numpy_broadcasts_scalars() -> None:
    out = confidence(np.array([1.0, 2.0]), 4.0, 1.0, 10.0)
    np.testing.assert_allclose(out, [0.25, 0.5])
