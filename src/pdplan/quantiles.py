"""Percentiles and summaries of samples. Pure, stdlib only; shared by bench and sim."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Literal, get_args

__all__ = ["STATS", "STAT_QUANTILE", "Stat", "percentile", "percentiles_sorted", "summarize"]

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


def summarize(values: Iterable[float | None]) -> dict[str, float | int]:
    """mean, p50, p90, p99 and count of the non-None values (empty -> count 0 only).

    >>> summarize([1.0, None, 3.0])["mean"]
    2.0
    """
    kept = sorted(v for v in values if v is not None)
    if not kept:
        return {"count": 0}
    p50, p90, p99 = percentiles_sorted(kept, [50, 90, 99])
    return {"mean": sum(kept) / len(kept), "p50": p50, "p90": p90, "p99": p99, "count": len(kept)}
