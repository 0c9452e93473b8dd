"""How bursty a trace is, and at which time scale: pure statistics of arrival times and lengths.

- rate per window (10 s, 1 min, 5 min): mean and peak over the full windows;
- inter-arrival SCV (1 for Poisson);
- the index of dispersion of counts ``I(t) = Var N(t) / E N(t)`` over windows of length ``t``
  (1 for Poisson at every ``t``; growing with ``t`` when the rate itself moves);
- local burstiness within windows of length ``w``: the inter-arrival SCV of gaps normalised
  by their window's rate, and the index of dispersion of counts in bins of ``t`` divided by
  their window's mean (what remains once the slow rate changes are taken out);
- lengths: mean and percentiles of ISL and OSL;
- with prompt block hash ids (Mooncake), the share of blocks an earlier request already sent
  (an upper bound on prefix-cache hits: an unbounded cache shared by all instances).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from pydantic import BaseModel, ConfigDict, Field

from pdplan.quantiles import Distribution, quantiles_sorted
from pdplan.schema.trace import Trace

__all__ = [
    "SUMMARY_WINDOWS_S",
    "LengthSummary",
    "RateWindow",
    "TraceSummary",
    "index_of_dispersion",
    "local_arrival_scv",
    "local_dispersion",
    "summarize_trace",
    "window_counts",
]

#: The time scales a trace summary reports, seconds.
SUMMARY_WINDOWS_S = (10.0, 60.0, 300.0)
_CONFIG = ConfigDict(extra="forbid", frozen=True)


def window_counts(times_s: Sequence[float], width_s: float) -> list[int]:
    """Arrivals in each full window ``[k w, (k+1) w)`` from the first arrival (a partial last
    window is left out).

    >>> window_counts([0.0, 0.5, 1.2, 2.5, 3.9], 1.0)
    [2, 1, 1]
    """
    if not times_s:
        return []
    t0 = times_s[0]
    full = int((times_s[-1] - t0) // width_s)
    counts = [0] * full
    for t in times_s:
        k = int((t - t0) // width_s)
        if k < full:
            counts[k] += 1
    return counts


def index_of_dispersion(times_s: Sequence[float], width_s: float) -> float | None:
    """``Var N / E N`` of the counts in full windows of ``width_s`` (None below 2 windows).

    >>> index_of_dispersion([float(i) for i in range(100)], 10.0)  # evenly spaced
    0.0
    """
    counts = window_counts(times_s, width_s)
    if len(counts) < 2:
        return None
    mean = sum(counts) / len(counts)
    if mean == 0:
        return None
    var = sum((c - mean) ** 2 for c in counts) / (len(counts) - 1)
    return var / mean


def _windows(times_s: Sequence[float], width_s: float) -> list[list[float]]:
    """Arrival times grouped by window (every window, the last one partial)."""
    t0 = times_s[0]
    groups: list[list[float]] = [[] for _ in range(int((times_s[-1] - t0) // width_s) + 1)]
    for t in times_s:
        groups[int((t - t0) // width_s)].append(t)
    return groups


def local_arrival_scv(times_s: Sequence[float], window_s: float) -> float:
    """Inter-arrival SCV within windows: each window's gaps scaled by its own mean gap, pooled.
    Slow rate changes across windows do not count; bursts inside a window do. 1 without data.

    >>> local_arrival_scv([0.0, 1.0, 2.0, 3.0, 10.0, 10.5, 11.0, 11.5], 5.0)  # two even rates
    0.0
    """
    scaled: list[float] = []
    for group in _windows(times_s, window_s):
        gaps = [b - a for a, b in pairwise(group)]
        mean = sum(gaps) / len(gaps) if gaps else 0.0
        if mean > 0:
            scaled.extend(g / mean for g in gaps)
    if len(scaled) < 2:
        return 1.0
    return sum((g - 1) ** 2 for g in scaled) / len(scaled)


def local_dispersion(times_s: Sequence[float], bin_s: float, window_s: float) -> float:
    """Index of dispersion of counts in bins of ``bin_s``, each bin compared with its window's
    mean count (bins of a window share its rate). 1 without data (Poisson).

    >>> local_dispersion([i / 2 for i in range(17)], bin_s=1.0, window_s=4.0)  # even: 2 a bin
    0.0
    >>> bursts = [0.0] * 4 + [2.0] * 4 + [4.0] * 4 + [6.0] * 4 + [8.0]  # 4 every other second
    >>> round(local_dispersion(bursts, bin_s=1.0, window_s=4.0), 3)
    2.667
    """
    if bin_s <= 0 or not times_s or bin_s >= window_s:
        return 1.0
    per_window = max(1, int(window_s // bin_s))
    counts = window_counts(times_s, bin_s)
    ratios_num = ratios_den = 0.0
    for start in range(0, len(counts) - per_window + 1, per_window):
        chunk = counts[start : start + per_window]
        mean = sum(chunk) / len(chunk)
        if mean <= 0 or len(chunk) < 2:
            continue
        ratios_num += sum((c - mean) ** 2 for c in chunk) / (len(chunk) - 1)
        ratios_den += mean
    return ratios_num / ratios_den if ratios_den > 0 else 1.0


class RateWindow(BaseModel):
    """Request rate over windows of one length."""

    model_config = _CONFIG
    window_s: float
    windows: int = Field(description="full windows in the trace")
    mean_rps: float | None = Field(description="mean rate over the full windows")
    peak_rps: float | None = Field(description="highest window's rate")
    index_of_dispersion: float | None = Field(description="Var N / E N of the window counts")


class LengthSummary(BaseModel):
    model_config = _CONFIG
    mean: float
    p50: float
    p90: float
    p99: float
    max: int
    scv: float = Field(description="squared coefficient of variation")


class TraceSummary(BaseModel):
    """What a trace asks of a deployment."""

    model_config = _CONFIG
    source: str
    format: str
    requests: int
    span_s: float = Field(description="first to last arrival, seconds (after time scaling)")
    time_scale: float = Field(description="replayed this many times faster than recorded")
    mean_rate_rps: float
    rates: list[RateWindow]
    interarrival_scv: float
    isl_tokens: LengthSummary
    osl_tokens: LengthSummary
    total_tps: float = Field(description="mean input + output tokens/s")
    prefix_blocks_seen: float | None = Field(
        description="share of prompt blocks (hash ids) an earlier request already sent"
    )


def _lengths(values: Sequence[int]) -> LengthSummary:
    ordered = sorted(values)
    dist = Distribution.of(ordered)
    assert dist is not None
    p50, p90, p99 = quantiles_sorted(ordered, [0.5, 0.9, 0.99])
    var = sum((v - dist.mean) ** 2 for v in ordered) / len(ordered)
    return LengthSummary(
        mean=dist.mean, p50=p50, p90=p90, p99=p99, max=ordered[-1], scv=var / dist.mean**2
    )


def _blocks_seen(trace: Trace) -> float | None:
    if trace.hash_ids is None:
        return None
    seen: set[int] = set()
    total = hits = 0
    for ids in trace.hash_ids:
        total += len(ids)
        hits += sum(1 for h in ids if h in seen)
        seen.update(ids)
    return hits / total if total else None


def summarize_trace(
    trace: Trace, time_scale: float = 1.0, windows_s: Sequence[float] = SUMMARY_WINDOWS_S
) -> TraceSummary:
    """The summary of a trace replayed ``time_scale`` times faster.

    >>> t = Trace(tuple(float(i) for i in range(21)), (100,) * 21, (10,) * 21)
    >>> s = summarize_trace(t, time_scale=2.0, windows_s=(1.0,))
    >>> s.span_s, s.mean_rate_rps, s.rates[0].peak_rps, s.interarrival_scv
    (10.0, 2.0, 2.0, 0.0)
    """
    times = trace.replay_times_s(time_scale)
    rates = []
    for w in windows_s:
        counts = window_counts(times, w)
        rates.append(
            RateWindow(
                window_s=w,
                windows=len(counts),
                mean_rps=sum(counts) / len(counts) / w if counts else None,
                peak_rps=max(counts) / w if counts else None,
                index_of_dispersion=index_of_dispersion(times, w),
            )
        )
    isl, osl = _lengths(trace.isl_tokens), _lengths(trace.osl_tokens)
    rate = trace.mean_rate_rps * time_scale  # raises on a trace with no time span
    return TraceSummary(
        source=trace.source,
        format=trace.fmt,
        requests=len(trace),
        span_s=trace.span_s / time_scale,
        time_scale=time_scale,
        mean_rate_rps=rate,
        rates=rates,
        interarrival_scv=trace.interarrival_scv,
        isl_tokens=isl,
        osl_tokens=osl,
        total_tps=rate * (isl.mean + osl.mean),
        prefix_blocks_seen=_blocks_seen(trace),
    )
