"""xsell.models.decay: forward decay with g(t) = 2^(t / half_life)."""

from __future__ import annotations

import pytest

from xsell.models.decay import (
    RESCALE_AFTER_HALF_LIVES,
    decayed_value,
    event_weight,
    needs_rescale,
    rescale_factor,
)

H = 86400.0  # one day half-life
L = 1_700_000_000.0  # landmark


@pytest.mark.parametrize("half_life", [0.0, -1.0])
def test_no_decay_weight_is_exactly_base(half_life: float) -> None:
    assert event_weight(L + 123456.0, L, half_life) == 1.0
    assert event_weight(L - 999.0, L, half_life, base=0.25) == 0.25
    assert event_weight(L + 10 * H, L, half_life, base=3.0) == 3.0


@pytest.mark.parametrize("half_life", [0.0, -1.0])
def test_no_decay_values_unchanged(half_life: float) -> None:
    assert decayed_value(7.0, L, L + 1e9, half_life) == 7.0
    assert rescale_factor(L, L + 50 * H, half_life) == 1.0
    assert needs_rescale(L + 1e12, L, half_life) is False


def test_weight_at_landmark_is_base() -> None:
    assert event_weight(L, L, H) == 1.0
    assert event_weight(L, L, H, base=0.25) == 0.25


def test_weight_one_half_life_after_landmark_doubles() -> None:
    assert event_weight(L + H, L, H) == 2.0
    assert event_weight(L + H, L, H, base=0.25) == 0.5
    assert event_weight(L + 3 * H, L, H) == 8.0
    assert event_weight(L - H, L, H) == 0.5
    assert event_weight(L + H / 2, L, H) == pytest.approx(2**0.5)


def test_decayed_value_halves_per_half_life() -> None:
    assert decayed_value(8.0, L, L, H) == 8.0
    assert decayed_value(8.0, L, L + H, H) == 4.0
    assert decayed_value(8.0, L, L + 2 * H, H) == 2.0
    assert decayed_value(8.0, L, L + 3 * H, H) == 1.0


def test_event_decays_to_base_at_its_own_time() -> None:
    ts = L + 5 * H
    stored = event_weight(ts, L, H)
    assert stored == 32.0
    assert decayed_value(stored, L, ts, H) == 1.0  # fresh event counts 1
    assert decayed_value(stored, L, ts + H, H) == 0.5  # one half-life later


def test_rescale_leaves_decayed_values_unchanged() -> None:
    new_landmark = L + 31 * H
    factor = rescale_factor(L, new_landmark, H)
    assert factor == 2.0**-31
    stored = event_weight(L + 10 * H, L, H) + event_weight(L + 31 * H, L, H)
    rescaled = stored * factor
    for now in (L + 31 * H, L + 40 * H, L + 31.5 * H):
        assert decayed_value(rescaled, new_landmark, now, H) == pytest.approx(
            decayed_value(stored, L, now, H), rel=1e-12
        )
    # a new event stored against the new landmark has its plain weight there
    assert event_weight(new_landmark, new_landmark, H) == 1.0


def test_rescale_factor_values() -> None:
    assert rescale_factor(L, L, H) == 1.0
    assert rescale_factor(L, L + H, H) == 0.5
    assert rescale_factor(L, L + 2 * H, H) == 0.25


def test_needs_rescale_threshold() -> None:
    assert RESCALE_AFTER_HALF_LIVES == 30.0
    assert needs_rescale(L, L, H) is False
    assert needs_rescale(L + 29 * H, L, H) is False
    assert needs_rescale(L + 30 * H, L, H) is False  # exactly at the threshold: not yet
    assert needs_rescale(L + 30.5 * H, L, H) is True
    assert needs_rescale(L + 31 * H, L, H) is True
    assert needs_rescale(L - 100 * H, L, H) is False
