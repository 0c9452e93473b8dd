"""Prefill service time from a profile: the one place that turns an input length into seconds.

One request of ``tokens`` uncached input tokens takes ``dp_groups * tokens / TPmax(tokens)``
on one attention-DP group (the groups share the instance's TPmax; each schedules its own
requests). TPmax is linear in ISL between measured points and clamped outside them. The
planner takes the mean and SCV of this time over the workload's ISL distribution; the
simulator times every request with it. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass

from pdplan.engine.curves import interpolate
from pdplan.queueing.sojourn import ServiceShape, shape_of
from pdplan.schema.lengths import LengthDist, grid_tokens
from pdplan.schema.profile import PrefillProfile

__all__ = ["PrefillService", "prefill_service", "prefill_time_s", "tpmax_tps"]


def tpmax_tps(profile: PrefillProfile, tokens: float) -> tuple[float, bool]:
    """TPmax at ``tokens`` input tokens and whether it was clamped to the measured range.

    >>> from pdplan.io import default_profile
    >>> tpmax_tps(default_profile().prefill, 6144)
    (28309.0, False)
    """
    points = profile.max_throughput
    lookup = interpolate([p.isl_tokens for p in points], [p.max_tps for p in points], tokens)
    return lookup.value, lookup.clamped


def prefill_time_s(profile: PrefillProfile, tokens: float) -> float:
    """Seconds one DP group computes a request of ``tokens`` uncached input tokens.

    >>> from pdplan.io import default_profile
    >>> round(prefill_time_s(default_profile().prefill, 6144), 4)
    0.217
    """
    return profile.dp_groups * tokens / tpmax_tps(profile, tokens)[0]


@dataclass(frozen=True, slots=True)
class PrefillService:
    """The prefill service time of the workload's requests on one DP group.

    :ivar mean_s: mean service time, seconds
    :ivar scv: squared coefficient of variation from the ISL spread (the engine's own
        variability is a separate factor, :func:`pdplan.engine.variability.combine_scv`)
    :ivar tpmax_tps: TPmax at the mean uncached ISL
    :ivar clamped: True when the mean length lies outside the measured ISL range
    :ivar shape: the service time's distribution relative to its mean (equally likely atoms)
    """

    mean_s: float
    scv: float
    tpmax_tps: float
    clamped: bool
    shape: ServiceShape


def prefill_service(
    profile: PrefillProfile, isl: LengthDist, prefix_hit_rate: float = 0.0
) -> PrefillService:
    """Mean and SCV of the service time over the ISL distribution (uncached part only).

    Exact when TPmax does not depend on the length (the moments of the ISL scale); otherwise
    the exact ISL moments times the correction that TPmax(ISL) makes over the distribution's
    grid of equally likely lengths.

    >>> from pdplan.io import default_profile
    >>> from pdplan.schema.lengths import Exponential
    >>> s = prefill_service(default_profile().prefill, Exponential(mean_tokens=6144))
    >>> round(s.mean_s, 4), s.scv
    (0.217, 1.0)
    """
    keep = 1.0 - prefix_hit_rate
    mean_tokens = isl.mean_tokens * keep
    tpmax, clamped = tpmax_tps(profile, mean_tokens)
    grid = grid_tokens(isl)
    if len(profile.max_throughput) == 1:  # one TPmax: time proportional to the length
        mean_s = profile.dp_groups * mean_tokens / tpmax
        return PrefillService(mean_s, isl.scv, tpmax, clamped, shape_of([float(v) for v in grid]))
    count: dict[int, int] = {}
    for v in grid:
        count[v] = count.get(v, 0) + 1
    m1 = m2 = x1 = x2 = 0.0
    times = {}
    for v, c in count.items():
        tokens = v * keep
        s = times[v] = prefill_time_s(profile, tokens)
        m1, m2 = m1 + c * s, m2 + c * s * s
        x1, x2 = x1 + c * tokens, x2 + c * tokens * tokens
    # the exact moments of the length, times the grid's correction for TPmax(length)
    mean_s = m1 / x1 * mean_tokens
    second_s = m2 / x2 * (isl.scv + 1) * mean_tokens**2
    shape = shape_of([times[v] for v in grid])
    return PrefillService(mean_s, max(second_s / mean_s**2 - 1, 0.0), tpmax, clamped, shape)
