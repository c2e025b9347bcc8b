"""Comparing a variant with the control group: Welch's t-test and a delta-method interval for
the ratio of two means, from sufficient statistics (count, sum, sum of squares).

Why Welch: the groups differ in size (a 10% holdout against the rest) and in variance (offers
change what people buy), which Student's pooled test assumes away; and it needs only
(n, sum, sum of squares) per group, which the stream keeps in O(1) per daily bucket, where a
bootstrap would need every order value. Order values are skewed, but the means of thousands
of orders are close to normal (central limit theorem); with tiny groups the interval is wide,
as it should be.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Sample:
    """A group by its sufficient statistics."""

    n: int
    total: float  # sum of the values
    squares: float  # sum of their squares

    @property
    def mean(self) -> float:
        return self.total / self.n if self.n else 0.0

    @property
    def variance(self) -> float:
        """The unbiased sample variance (0 with fewer than two values)."""
        if self.n < 2:
            return 0.0
        return max((self.squares - self.total * self.total / self.n) / (self.n - 1), 0.0)


@dataclass(frozen=True, slots=True)
class Comparison:
    ratio: float | None  # mean of the variant / mean of control
    low: float | None  # 95% interval of the ratio
    high: float | None
    p_value: float | None  # Welch's two-sided test of equal means
    df: float | None


def _betacf(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz)."""
    tiny, qab, qap, qam = 1e-300, a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        for num in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return h


def incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with ``df`` degrees of freedom."""
    tail = 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


def t_quantile(p: float, df: float) -> float:
    """The t with P(T <= t) = p (bisection: monotone, 60 halvings are exact enough)."""
    lo, hi = -1e3, 1e3
    for _ in range(100):
        mid = (lo + hi) / 2.0
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2.0


def two_sided_p(diff: float, se: float, df: float) -> float:
    """P(|T| >= |diff| / se); with no spread, 1 when equal and 0 when not."""
    if se == 0:
        return 1.0 if diff == 0 else 0.0
    return 2.0 * (1.0 - t_cdf(abs(diff) / se, df))


def welch(variant: Sample, control: Sample) -> Comparison:
    """The ratio of the means with its 95% interval (delta method on the log ratio, with
    Welch's degrees of freedom) and Welch's two-sided p-value. None where the data cannot
    tell (fewer than two values on a side, or a mean of 0)."""
    if variant.n < 2 or control.n < 2:
        return Comparison(None, None, None, None, None)
    va, vc = variant.variance / variant.n, control.variance / control.n
    se = math.sqrt(va + vc)
    df = (va + vc) ** 2 / (
        (va * va / (variant.n - 1) if va else 0.0) + (vc * vc / (control.n - 1) if vc else 0.0)
        or 1e-300
    )
    diff = variant.mean - control.mean
    p = two_sided_p(diff, se, df)
    if variant.mean <= 0 or control.mean <= 0:
        return Comparison(None, None, None, p, df)
    ratio = variant.mean / control.mean
    if se == 0:  # no spread on either side: the ratio is what it is
        return Comparison(ratio, ratio, ratio, p, None)
    log_se = math.sqrt(va / variant.mean**2 + vc / control.mean**2)
    crit = t_quantile(0.975, df)
    return Comparison(
        ratio, ratio * math.exp(-crit * log_se), ratio * math.exp(crit * log_se), p, df
    )
