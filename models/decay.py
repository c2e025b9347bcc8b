"""Forward decay (Cormode, Shkapenyuk, Srivastava, Xu: "Forward Decay: A Practical Time Decay
Model for Streaming Systems", ICDE 2009) with exponential g(t) = 2^(t / half_life).

Why forward decay: a count decayed *backwards* must be rewritten every time the clock moves. With
forward decay each event is stored once with weight g(t_i - L) relative to a landmark L, and the
decayed value at any query time T is ``stored / g(T - L)``. Updates stay plain increments
(ZINCRBY), and every ratio of two counts with the same landmark (confidence, Jaccard, lift) needs
no normalisation at all. Stored numbers grow like 2^((t - L)/h); before they grow too large the
landmark moves forward and the stored values are multiplied by g(L - L') ("rescaling"), which
changes no decayed value. Rescaling is per Redis key, lazily, on write.
"""

from __future__ import annotations

import math

RESCALE_AFTER_HALF_LIVES = 30.0
"""Move a key's landmark once an event is this many half-lives past it (weights up to 2^30)."""


def event_weight(ts: float, landmark: float, half_life: float, base: float = 1.0) -> float:
    """Stored weight of one event at ``ts``: ``base * 2^((ts - landmark) / half_life)``.

    ``half_life <= 0`` means no decay: every event weighs exactly ``base`` (integer counts stay
    exact).
    """
    if half_life <= 0:
        return base
    return base * math.pow(2.0, (ts - landmark) / half_life)


def decayed_value(stored: float, landmark: float, now: float, half_life: float) -> float:
    """Decayed value at ``now`` of a number stored relative to ``landmark``."""
    if half_life <= 0:
        return stored
    return stored * math.pow(2.0, (landmark - now) / half_life)


def needs_rescale(ts: float, landmark: float, half_life: float) -> bool:
    """True when an event at ``ts`` would get a weight above 2^RESCALE_AFTER_HALF_LIVES."""
    return half_life > 0 and (ts - landmark) / half_life > RESCALE_AFTER_HALF_LIVES


def rescale_factor(old_landmark: float, new_landmark: float, half_life: float) -> float:
    """Multiplier that re-expresses values stored at ``old_landmark`` at ``new_landmark``."""
    if half_life <= 0:
        return 1.0
    return math.pow(2.0, (old_landmark - new_landmark) / half_life)
