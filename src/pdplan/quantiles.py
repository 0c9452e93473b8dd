"""Quantiles, the one distribution summary of samples (shared by the simulator, the bench and
the reports), and intervals of means and medians. Percentiles are named ``p50``/``p90``/``p99``
and every quantile is a fraction (:data:`STAT_QUANTILE`); an empty sample has no summary
(None), never NaN. Pure."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Literal, get_args

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "STATS",
    "STAT_QUANTILE",
    "Distribution",
    "Interval",
    "Stat",
    "batch_means_interval",
    "difference_interval",
    "mean_interval",
    "median_interval",
    "quantile",
    "quantiles_sorted",
    "student_t_quantile",
    "summarize",
]

#: The statistic an SLO applies to: the mean (the paper's) or a percentile.
Stat = Literal["mean", "p50", "p90", "p99"]
STATS: tuple[str, ...] = get_args(Stat)
#: The quantile each percentile statistic names.
STAT_QUANTILE = {"p50": 0.5, "p90": 0.9, "p99": 0.99}


def quantiles_sorted(ordered: Sequence[float] | np.ndarray, qs: Iterable[float]) -> list[float]:
    """Linear-interpolation quantiles (numpy's default) of already sorted values, each ``q``
    a fraction in [0, 1] (the one convention: ``p90`` is 0.9, :data:`STAT_QUANTILE`).

    >>> quantiles_sorted([1.0, 2.0, 3.0, 4.0], [0.5, 1.0])
    [2.5, 4.0]
    """
    if not len(ordered):
        raise ValueError("quantiles of no values: summarize with Distribution.of (None)")
    out = []
    for q in qs:
        pos = (len(ordered) - 1) * q
        lo, hi = math.floor(pos), math.ceil(pos)
        out.append(ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo))
    return out


def quantile(values: Sequence[float], q: float) -> float:
    """One quantile, ``q`` in [0, 1].

    >>> quantile([1.0, 2.0, 3.0, 4.0], 0.5)
    2.5
    """
    return quantiles_sorted(sorted(values), [q])[0]


class Distribution(BaseModel):
    """Count, mean and percentiles of a sample, in the unit the holder's name carries.

    >>> d = Distribution.of([1.0, None, 3.0])
    >>> d.count, d.mean, d.stat("p50")
    (2, 2.0, 2.0)
    >>> Distribution.of([]) is None
    True
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    count: int = Field(ge=1, description="values summarized")
    mean: float
    p50: float
    p90: float
    p99: float
    max: float | None = Field(None, description="the largest value (None: not known)")

    @classmethod
    def of(cls, values: Iterable[float | None] | np.ndarray) -> Distribution | None:
        """The summary of the non-None values (of a numpy array: the non-NaN ones, summed in
        the same order, so the same numbers); None when there are none."""
        if isinstance(values, np.ndarray):
            ordered = np.sort(values[~np.isnan(values)])
            if not ordered.size:
                return None
            total = float(np.cumsum(ordered)[-1])  # sequential, as sum() adds a list
            kept: Sequence[float] | np.ndarray = ordered
        else:
            kept = sorted(v for v in values if v is not None)
            if not kept:
                return None
            total = sum(kept)
        qs = [STAT_QUANTILE[k] for k in ("p50", "p90", "p99")]
        p50, p90, p99 = (float(q) for q in quantiles_sorted(kept, qs))
        return cls(
            count=len(kept), mean=total / len(kept), p50=p50, p90=p90, p99=p99, max=float(kept[-1])
        )

    def stat(self, name: Stat) -> float:
        """``mean``, ``p50``, ``p90`` or ``p99``."""
        return float(getattr(self, name))


def summarize(values: Iterable[float | None]) -> dict[str, float | int]:
    """:class:`Distribution` of the non-None values as a dict (empty -> count 0 only).

    >>> summarize([1.0, None, 3.0])["mean"]
    2.0
    """
    dist = Distribution.of(values)
    return {"count": 0} if dist is None else dist.model_dump()


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the regularized incomplete beta (Lentz's method; Numerical
    Recipes, ``betacf``)."""
    tiny = 1e-300

    def guard(v: float) -> float:
        return v if abs(v) > tiny else tiny

    c, d = 1.0, 1.0 / guard(1.0 - (a + b) * x / (a + 1.0))
    h = d
    for m in range(1, 300):
        even = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
        odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
        for term in (even, odd):
            d = 1.0 / guard(1.0 + term * d)
            c = guard(1.0 + term / c)
            h *= d * c
        if abs(d * c - 1.0) < 1e-14:
            break
    return h


def _betainc(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta I_x(a, b), x in [0, 1]."""
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


def student_t_quantile(p: float, df: int) -> float:
    """The ``p`` quantile of Student's t with ``df`` degrees of freedom (bisection on its CDF,
    ``P(T <= t) = 1 - I_{df/(df+t^2)}(df/2, 1/2) / 2`` for t >= 0).

    >>> round(student_t_quantile(0.95, 4), 4), round(student_t_quantile(0.975, 30), 4)
    (2.1318, 2.0423)
    """
    if not 0 < p < 1 or df < 1:
        raise ValueError(f"need 0 < p < 1 and df >= 1, got p={p}, df={df}")
    if p < 0.5:
        return -student_t_quantile(1 - p, df)

    def cdf(t: float) -> float:
        return 1.0 - 0.5 * _betainc(df / 2.0, 0.5, df / (df + t * t))

    lo, hi = 0.0, 1.0
    while cdf(hi) < p:
        hi *= 2
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if cdf(mid) < p else (lo, mid)
    return (lo + hi) / 2


class Interval(BaseModel):
    """A mean and its confidence interval, from independent replications."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mean: float
    low: float
    high: float
    confidence: float = Field(gt=0, lt=1)
    replications: int = Field(ge=1)

    @property
    def half_width_share(self) -> float:
        """Half the interval's width over the mean (0 when the mean is 0)."""
        return (self.high - self.low) / 2 / self.mean if self.mean else 0.0


def mean_interval(values: Sequence[float], confidence: float = 0.9) -> Interval:
    """The mean of independent replications with its Student-t confidence interval.

    >>> i = mean_interval([10.0, 11.0, 12.0])
    >>> i.mean, round(i.low, 3), round(i.high, 3)
    (11.0, 9.314, 12.686)
    >>> mean_interval([5.0]).low  # one replication: no spread is known
    5.0
    """
    n = len(values)
    if n == 0:
        raise ValueError("mean_interval needs at least one value")
    mean = sum(values) / n
    if n == 1:
        return Interval(mean=mean, low=mean, high=mean, confidence=confidence, replications=1)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = student_t_quantile(0.5 + confidence / 2, n - 1) * sd / math.sqrt(n)
    return Interval(
        mean=mean, low=mean - half, high=mean + half, confidence=confidence, replications=n
    )


def batch_means_interval(
    values: Sequence[float], batches: int = 10, confidence: float = 0.9
) -> Interval | None:
    """The mean of a correlated series (latencies in arrival order: a queue's requests wait
    for each other) with its batch-means interval: the series cut into ``batches`` contiguous
    batches, whose means are close to independent when a batch outlasts the correlation.
    None below two values per batch.

    >>> i = batch_means_interval([float(v % 7) for v in range(100)], batches=10)
    >>> round(i.mean, 2), i.low < i.mean < i.high, i.replications
    (2.95, True, 10)
    """
    n = len(values)
    if batches < 2 or n < 2 * batches:
        return None
    size = n // batches
    means = [sum(values[k * size : (k + 1) * size]) / size for k in range(batches)]
    interval = mean_interval(means, confidence)
    mean = sum(values) / n
    half = (interval.high - interval.low) / 2
    return Interval(
        mean=mean,
        low=mean - half,
        high=mean + half,
        confidence=confidence,
        replications=batches,
    )


def median_interval(values: Sequence[float], confidence: float = 0.9) -> tuple[float, float]:
    """A distribution-free interval for the median: the order statistics ``x(k)`` and
    ``x(n + 1 - k)`` with the largest ``k`` whose binomial coverage reaches ``confidence``
    (``[min, max]`` when even that falls short, as with four or fewer values).

    >>> median_interval([5.0, 1.0, 3.0, 2.0, 4.0, 6.0, 7.0, 9.0, 8.0, 10.0])
    (2.0, 9.0)
    """
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        raise ValueError("median_interval needs at least one value")
    k = 1
    while k + 1 <= (n + 1) // 2:
        # coverage of [x(k+1), x(n-k)]: P(k + 1 <= B <= n - k - 1), B ~ Binomial(n, 1/2)
        tail = sum(math.comb(n, j) for j in range(k + 1)) / 2**n
        if 1 - 2 * tail < confidence:
            break
        k += 1
    return ordered[k - 1], ordered[n - k]


def difference_interval(
    a: Sequence[float], b: Sequence[float], confidence: float = 0.9
) -> Interval | None:
    """The difference of two means ``mean(a) - mean(b)`` with Welch's interval (unequal
    variances, Welch-Satterthwaite degrees of freedom). None below two values in either.

    >>> i = difference_interval([10.0, 11.0, 12.0, 13.0], [1.0, 2.0, 3.0, 4.0])
    >>> i.mean, round(i.low, 2), round(i.high, 2)
    (9.0, 7.23, 10.77)
    """
    na, nb = len(a), len(b)
    if na < 2 or nb < 2:
        return None
    ma, mb = sum(a) / na, sum(b) / nb
    va = sum((x - ma) ** 2 for x in a) / (na - 1) / na
    vb = sum((x - mb) ** 2 for x in b) / (nb - 1) / nb
    se = math.sqrt(va + vb)
    diff = ma - mb
    if se == 0:
        return Interval(mean=diff, low=diff, high=diff, confidence=confidence, replications=na)
    df = (va + vb) ** 2 / (va**2 / (na - 1) + vb**2 / (nb - 1))
    half = student_t_quantile(0.5 + confidence / 2, max(1, math.floor(df))) * se
    return Interval(
        mean=diff, low=diff - half, high=diff + half, confidence=confidence, replications=na
    )
