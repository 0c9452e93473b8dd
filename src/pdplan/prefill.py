"""Prefill capacity models: the TTFT statistic of a prefill queue (or pool) at a rate, and the
largest arrival rate whose statistic stays within budget. Pure functions on floats.

Kinds:

- ``mm1``: the paper's M/M/1 per instance (exponential service, Poisson arrivals). Mean and
  exact quantiles; arrival burstiness is ignored (the paper plans on the mean rate).
- ``mg1``: GI/G/1 per instance with the service-time SCV ``scv`` (ISL spread x engine noise;
  ``scv = 0``: M/D/1) and the inter-arrival SCV ``arrival_scv`` (1: Poisson; Kingman's
  approximation otherwise, :mod:`pdplan.queueing.gg1`).
- pooled (``servers = c > 1``): one queue served by c instances, GI/G/c by Allen-Cunneen.

Percentiles (except the exact M/M/1 ones) fit a gamma distribution to the first two moments
of the sojourn ``T = W + S`` (W and S independent under FCFS), and read its quantile by
Wilson-Hilferty; :func:`sojourn_cdf` is the same gamma's distribution function, so that a
mixture over time windows (:mod:`pdplan.trace_plan`) uses the same model. The service time's
own spread counts: with variable ISL the p90 TTFT exceeds E[S] even at zero load.

``budget_s`` is TTFT minus the fixed overhead; ``stat`` is ``mean``, ``p50``, ``p90``, ``p99``.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Literal

from pdplan.quantiles import STAT_QUANTILE, Stat
from pdplan.queueing.gg1 import allen_cunneen_wait_moments_s, kingman_wait_moments_s
from pdplan.queueing.mm1 import mm1_mean_sojourn_s, mm1_sojourn_quantile_s

__all__ = [
    "PrefillKind",
    "gamma_cdf",
    "gamma_quantile",
    "max_rate_rps",
    "sojourn_cdf",
    "sojourn_moments_s",
    "sojourn_stat_s",
]

PrefillKind = Literal["mm1", "mg1"]
_NORMAL = NormalDist()


def _exponential(kind: PrefillKind, scv: float, arrival_scv: float, servers: int) -> bool:
    """True where the sojourn is exactly exponential: M/M/1."""
    return servers == 1 and (kind == "mm1" or (scv == 1.0 and arrival_scv == 1.0))


def sojourn_moments_s(
    kind: PrefillKind,
    rate_rps: float,
    service_s: float,
    scv: float,
    servers: int = 1,
    arrival_scv: float = 1.0,
) -> tuple[float, float]:
    """Mean and variance of the sojourn (wait + service), seconds (inf when unstable).

    >>> m, v = sojourn_moments_s("mm1", 8.0, 0.1, 1.0)  # exponential, rate mu - lambda = 2
    >>> round(m, 6), round(v, 6)
    (0.5, 0.25)
    """
    if kind == "mm1":
        scv, arrival_scv = 1.0, 1.0
    if rate_rps >= servers / service_s:
        return math.inf, math.inf
    if servers == 1:
        wait, wait2 = kingman_wait_moments_s(rate_rps, service_s, scv, arrival_scv)
    else:
        wait, wait2 = allen_cunneen_wait_moments_s(rate_rps, service_s, servers, scv, arrival_scv)
    return service_s + wait, scv * service_s**2 + wait2 - wait**2


def sojourn_stat_s(
    kind: PrefillKind,
    rate_rps: float,
    service_s: float,
    scv: float,
    stat: Stat,
    servers: int = 1,
    arrival_scv: float = 1.0,
) -> float:
    """The chosen statistic of the sojourn (wait + service) at ``rate_rps``, seconds.

    >>> round(sojourn_stat_s("mm1", 8.0, 0.1, 1.0, "mean"), 6)
    0.5
    >>> round(sojourn_stat_s("mg1", 8.0, 0.1, 0.0, "mean"), 6)  # M/D/1
    0.3
    >>> round(sojourn_stat_s("mg1", 8.0, 0.1, 0.0, "mean", arrival_scv=3.0), 6)  # bursts
    0.7
    """
    mu = 1.0 / service_s
    if rate_rps >= servers * mu:
        return math.inf
    if _exponential(kind, scv, arrival_scv, servers):
        if stat == "mean":
            return mm1_mean_sojourn_s(rate_rps, mu)
        return mm1_sojourn_quantile_s(rate_rps, mu, STAT_QUANTILE[stat])
    mean, variance = sojourn_moments_s(kind, rate_rps, service_s, scv, servers, arrival_scv)
    if stat == "mean":
        return mean
    return gamma_quantile(mean, variance, STAT_QUANTILE[stat])


def sojourn_cdf(
    kind: PrefillKind,
    rate_rps: float,
    service_s: float,
    scv: float,
    t_s: float,
    servers: int = 1,
    arrival_scv: float = 1.0,
) -> float:
    """P(sojourn <= t_s) under the same model as :func:`sojourn_stat_s` (0 when unstable).

    >>> round(sojourn_cdf("mm1", 8.0, 0.1, 1.0, math.log(10) / 2), 6)  # the M/M/1 p90
    0.9
    """
    if rate_rps >= servers / service_s or t_s <= 0:
        return 0.0
    if _exponential(kind, scv, arrival_scv, servers):
        return 1.0 - math.exp(-(1.0 / service_s - rate_rps) * t_s)
    mean, variance = sojourn_moments_s(kind, rate_rps, service_s, scv, servers, arrival_scv)
    return gamma_cdf(mean, variance, t_s)


def gamma_cdf(mean: float, variance: float, t: float) -> float:
    """P(X <= t) for the gamma distribution with this mean and variance (Wilson-Hilferty),
    the inverse of the quantile the percentiles use.

    >>> round(gamma_cdf(1.0, 0.0, 1.5), 3), round(gamma_cdf(1.0, 1.0, 2.28), 2)
    (1.0, 0.9)
    """
    if t <= 0:
        return 0.0
    if variance <= 0:
        return 1.0 if t >= mean else 0.0
    k = mean**2 / variance
    spread = math.sqrt(1 / (9 * k))
    return _NORMAL.cdf(((t / mean) ** (1 / 3) - (1 - 1 / (9 * k))) / spread)


def gamma_quantile(mean: float, variance: float, q: float) -> float:
    """Quantile of the gamma distribution with this mean and variance (Wilson-Hilferty).

    >>> round(gamma_quantile(1.0, 1.0, 0.9), 3)  # exponential p90 = ln 10 = 2.303
    2.28
    """
    if variance <= 0:
        return mean
    k = mean**2 / variance
    base = 1 - 1 / (9 * k) + _NORMAL.inv_cdf(q) * math.sqrt(1 / (9 * k))
    return mean * max(base, 0.0) ** 3


def max_rate_rps(
    kind: PrefillKind,
    service_s: float,
    scv: float,
    budget_s: float,
    stat: Stat,
    servers: int = 1,
    arrival_scv: float = 1.0,
) -> float:
    """Largest arrival rate with ``sojourn_stat_s <= budget_s`` (0 if none), by bisection.

    >>> round(max_rate_rps("mm1", 0.1, 1.0, 0.5, "mean"), 6)  # 10 - 1/0.5
    8.0
    >>> round(max_rate_rps("mg1", 0.1, 0.0, 0.3, "mean"), 4)  # M/D/1 at T = 0.3 s
    8.0
    """
    cap = servers / service_s

    def stat_at(rate: float) -> float:
        return sojourn_stat_s(kind, rate, service_s, scv, stat, servers, arrival_scv)

    if stat_at(cap * 1e-9) > budget_s:
        return 0.0
    lo, hi = cap * 1e-9, cap
    for _ in range(80):
        mid = (lo + hi) / 2
        if stat_at(mid) <= budget_s:
            lo = mid
        else:
            hi = mid
    return lo
