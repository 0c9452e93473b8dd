"""Percentiles and the one distribution summary of samples, shared by the simulator, the
bench and the reports. Percentiles are named ``p50``/``p90``/``p99`` and held as fractions in
:data:`STAT_QUANTILE`; an empty sample has no summary (None), never NaN. Pure."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "STATS",
    "STAT_QUANTILE",
    "Distribution",
    "Stat",
    "percentile",
    "percentiles_sorted",
    "summarize",
]

#: The statistic an SLO applies to: the mean (the paper's) or a percentile.
Stat = Literal["mean", "p50", "p90", "p99"]
STATS: tuple[str, ...] = get_args(Stat)
#: The quantile each percentile statistic names.
STAT_QUANTILE = {"p50": 0.5, "p90": 0.9, "p99": 0.99}


def percentiles_sorted(ordered: Sequence[float], qs: Iterable[float]) -> list[float]:
    """Linear-interpolation percentiles (numpy's default) of already sorted values.

    >>> percentiles_sorted([1.0, 2.0, 3.0, 4.0], [50, 100])
    [2.5, 4.0]
    """
    if not ordered:
        return [math.nan for _ in qs]
    out = []
    for q in qs:
        pos = (len(ordered) - 1) * q / 100.0
        lo, hi = math.floor(pos), math.ceil(pos)
        out.append(ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo))
    return out


def percentile(values: Sequence[float], q: float) -> float:
    """One percentile, q in [0, 100].

    >>> percentile([1.0, 2.0, 3.0, 4.0], 50)
    2.5
    """
    return percentiles_sorted(sorted(values), [q])[0]


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

    @classmethod
    def of(cls, values: Iterable[float | None]) -> Distribution | None:
        """The summary of the non-None values; None when there are none."""
        kept = sorted(v for v in values if v is not None)
        if not kept:
            return None
        p50, p90, p99 = percentiles_sorted(kept, [50, 90, 99])
        return cls(count=len(kept), mean=sum(kept) / len(kept), p50=p50, p90=p90, p99=p99)

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
