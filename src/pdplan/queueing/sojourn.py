"""Prefill capacity models: the TTFT statistic of a prefill queue (or pool) at a rate, and the
largest arrival rate whose statistic stays within budget. Pure functions on floats.

Kinds:

- ``mm1``: the paper's M/M/1 per instance (exponential service, Poisson arrivals). Mean and
  exact quantiles; arrival burstiness is ignored (the paper plans on the mean rate).
- ``mg1``: GI/G/1 per instance with the service-time SCV ``scv`` (ISL spread x engine noise;
  ``scv = 0``: M/D/1) and the inter-arrival SCV ``arrival_scv`` (1: Poisson; Kingman's
  approximation otherwise, :mod:`pdplan.queueing.gg1`).
- pooled (``servers = c > 1``): one queue served by c instances, GI/G/c by Allen-Cunneen.

Percentiles (except the exact M/M/1 ones) convolve the service time's own distribution with
the wait: ``P(T <= t) = sum_j p_j [(1 - P_w) 1{s_j <= t} + P_w G(t - s_j)]``, where the
service time takes values ``s_j`` (a :data:`ServiceShape`: the lengths' spread through TPmax,
times the engine's gamma noise), ``P_w`` is the probability of waiting (``rho`` for one
server, Erlang C for a pool) and ``G`` a gamma fitted to the conditional wait's first two
moments (Kingman / Allen-Cunneen, Takacs for the second): exact at zero load, exact for
M/M/1, the exponential heavy-traffic tail otherwise. The zero-load p90 of a heavy-tailed ISL
is therefore its own p90, not a gamma fit's. :func:`sojourn_cdf` is the same distribution,
so that a mixture over time windows (:mod:`pdplan.plan.trace`) uses the same model.

``budget_s`` is TTFT minus the fixed overhead; ``stat`` is ``mean``, ``p50``, ``p90``, ``p99``.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Literal

from pdplan.quantiles import STAT_QUANTILE, Stat
from pdplan.queueing.erlang_c import erlang_c
from pdplan.queueing.gg1 import allen_cunneen_wait_moments_s, kingman_wait_moments_s
from pdplan.queueing.mm1 import (
    mm1_max_arrival_rate_rps,
    mm1_mean_sojourn_s,
    mm1_sojourn_quantile_s,
)

__all__ = [
    "PrefillKind",
    "ServiceShape",
    "combine_shapes",
    "gamma_cdf",
    "gamma_quantile",
    "gamma_shape",
    "max_rate_rps",
    "shape_of",
    "sojourn_cdf",
    "sojourn_moments_s",
    "sojourn_stat_s",
    "wait_distribution",
]

PrefillKind = Literal["mm1", "mg1"]
#: The service time's distribution relative to its mean: ``((value / mean, probability), ...)``
#: with mean 1.
ServiceShape = tuple[tuple[float, float], ...]
_NORMAL = NormalDist()
_ATOMS = 48


def _quantile_points(
    atoms: list[tuple[float, float]], points: int, scale: float = 1.0
) -> ServiceShape:
    """At most ``points`` equally likely atoms at the quantile midpoints of a discrete
    distribution (quantiles kept: the shape serves percentiles; means come from moments)."""
    atoms = sorted(a for a in atoms if a[1] > 0)
    total = sum(p for _, p in atoms)
    if len(atoms) <= points:
        return tuple((v / scale, p / total) for v, p in atoms)
    out, acc, k = [], 0.0, 0
    for v, p in atoms:
        acc += p / total
        while k < points and (k + 0.5) / points <= acc + 1e-12:
            out.append((v / scale, 1.0 / points))
            k += 1
    while k < points:  # rounding at the top
        out.append((atoms[-1][0] / scale, 1.0 / points))
        k += 1
    return tuple(out)


def shape_of(values: list[float], points: int = _ATOMS) -> ServiceShape:
    """The shape of observed service times (or lengths) relative to their mean: the values
    themselves when few, else equally likely quantile midpoints.

    >>> [(v, round(p, 3)) for v, p in shape_of([1.0, 1.0, 4.0])]
    [(0.5, 0.667), (2.0, 0.333)]
    """
    counts: dict[float, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    mean = sum(values) / len(values)
    return _quantile_points([(v, float(c)) for v, c in counts.items()], points, mean)


def gamma_shape(scv: float, points: int = 16) -> ServiceShape:
    """Equally likely quantile midpoints of a gamma of mean 1 and this SCV (exact for the
    exponential, Wilson-Hilferty otherwise; 0: one atom).

    >>> gamma_shape(0.0)
    ((1.0, 1.0),)
    >>> round(gamma_shape(1.0, 2)[1][0], 4)  # exponential, the 75 % quantile: ln 4
    1.3863
    """
    if scv <= 0:
        return ((1.0, 1.0),)
    if scv == 1.0:
        return tuple((-math.log1p(-(i + 0.5) / points), 1.0 / points) for i in range(points))
    return tuple(
        (gamma_quantile(1.0, scv, (i + 0.5) / points), 1.0 / points) for i in range(points)
    )


def combine_shapes(a: ServiceShape, b: ServiceShape, points: int = _ATOMS) -> ServiceShape:
    """The shape of the product of independent factors (lengths x engine noise).

    >>> combine_shapes(((1.0, 1.0),), ((0.5, 0.5), (1.5, 0.5)))
    ((0.5, 0.5), (1.5, 0.5))
    """
    return _quantile_points([(va * vb, pa * pb) for va, pa in a for vb, pb in b], points)


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


def wait_distribution(
    kind: PrefillKind,
    rate_rps: float,
    service_s: float,
    scv: float,
    servers: int,
    arrival_scv: float,
) -> tuple[float, float, float]:
    """(probability of waiting, mean and variance of the wait of those who wait), seconds.

    >>> p, m, v = wait_distribution("mm1", 8.0, 0.1, 1.0, 1, 1.0)  # M/M/1: Exp(mu - lambda)
    >>> round(p, 6), round(m, 6), round(v, 6)
    (0.8, 0.5, 0.25)
    """
    if kind == "mm1":
        scv, arrival_scv = 1.0, 1.0
    if servers == 1:
        p_wait = rate_rps * service_s
        wait, wait2 = kingman_wait_moments_s(rate_rps, service_s, scv, arrival_scv)
    else:
        p_wait = erlang_c(servers, rate_rps * service_s) if rate_rps > 0 else 0.0
        wait, wait2 = allen_cunneen_wait_moments_s(rate_rps, service_s, servers, scv, arrival_scv)
    if p_wait <= 0 or wait <= 0:
        return 0.0, 0.0, 0.0
    mean_c = wait / p_wait
    return p_wait, mean_c, max(wait2 / p_wait - mean_c**2, 0.0)


def _shape(kind: PrefillKind, scv: float, shape: ServiceShape | None) -> ServiceShape:
    if kind == "mm1":
        return gamma_shape(1.0)
    return shape if shape is not None else gamma_shape(scv)


def sojourn_stat_s(
    kind: PrefillKind,
    rate_rps: float,
    service_s: float,
    scv: float,
    stat: Stat,
    servers: int = 1,
    arrival_scv: float = 1.0,
    shape: ServiceShape | None = None,
) -> float:
    """The chosen statistic of the sojourn (wait + service) at ``rate_rps``, seconds.

    ``shape`` is the service time's distribution (default: a gamma of SCV ``scv``); its SCV
    must be ``scv``.

    >>> round(sojourn_stat_s("mm1", 8.0, 0.1, 1.0, "mean"), 6)
    0.5
    >>> round(sojourn_stat_s("mg1", 8.0, 0.1, 0.0, "mean"), 6)  # M/D/1
    0.3
    >>> round(sojourn_stat_s("mg1", 8.0, 0.1, 0.0, "mean", arrival_scv=3.0), 6)  # bursts
    0.7
    >>> round(sojourn_stat_s("mg1", 0.0, 0.1, 0.0, "p90"), 6)  # zero load: the service time
    0.1
    """
    mu = 1.0 / service_s
    if rate_rps >= servers * mu:
        return math.inf
    if _exponential(kind, scv, arrival_scv, servers):
        if stat == "mean":
            return mm1_mean_sojourn_s(rate_rps, mu)
        return mm1_sojourn_quantile_s(rate_rps, mu, STAT_QUANTILE[stat])
    if stat == "mean":
        return sojourn_moments_s(kind, rate_rps, service_s, scv, servers, arrival_scv)[0]
    atoms = _shape(kind, scv, shape)
    p_wait, mean_c, var_c = wait_distribution(kind, rate_rps, service_s, scv, servers, arrival_scv)
    q = STAT_QUANTILE[stat]
    lo = 0.0
    hi = service_s * max(v for v, _ in atoms) + mean_c + 12 * math.sqrt(var_c) + 1e-12
    for _ in range(50):
        mid = (lo + hi) / 2
        if _cdf(atoms, service_s, p_wait, mean_c, var_c, mid) >= q:
            hi = mid
        else:
            lo = mid
    return hi


def _cdf(
    atoms: ServiceShape, service_s: float, p_wait: float, mean_c: float, var_c: float, t: float
) -> float:
    total = 0.0
    for ratio, p in atoms:
        left = t - ratio * service_s
        if left < 0:
            continue
        waited = gamma_cdf(mean_c, var_c, left) if p_wait else 0.0
        total += p * ((1 - p_wait) + p_wait * waited)
    return total


def sojourn_cdf(
    kind: PrefillKind,
    rate_rps: float,
    service_s: float,
    scv: float,
    t_s: float,
    servers: int = 1,
    arrival_scv: float = 1.0,
    shape: ServiceShape | None = None,
) -> float:
    """P(sojourn <= t_s) under the same model as :func:`sojourn_stat_s` (0 when unstable).

    >>> round(sojourn_cdf("mm1", 8.0, 0.1, 1.0, math.log(10) / 2), 6)  # the M/M/1 p90
    0.9
    """
    if rate_rps >= servers / service_s or t_s <= 0:
        return 0.0
    if _exponential(kind, scv, arrival_scv, servers):
        return 1.0 - math.exp(-(1.0 / service_s - rate_rps) * t_s)
    p_wait, mean_c, var_c = wait_distribution(kind, rate_rps, service_s, scv, servers, arrival_scv)
    return _cdf(_shape(kind, scv, shape), service_s, p_wait, mean_c, var_c, t_s)


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
    shape: ServiceShape | None = None,
) -> float:
    """Largest arrival rate with ``sojourn_stat_s <= budget_s`` (0 if none): in closed form for
    the mean of M/M/1 (the paper's eq. 13), by bisection otherwise.

    >>> round(max_rate_rps("mm1", 0.1, 1.0, 0.5, "mean"), 6)  # 10 - 1/0.5
    8.0
    >>> round(max_rate_rps("mg1", 0.1, 0.0, 0.3, "mean"), 4)  # M/D/1 at T = 0.3 s
    8.0
    """
    cap = servers / service_s
    if kind == "mm1" and stat == "mean" and servers == 1:  # eq. 13 in closed form
        return mm1_max_arrival_rate_rps(1 / service_s, budget_s) if budget_s > service_s else 0.0

    if shape is None and kind != "mm1" and stat != "mean":
        shape = gamma_shape(scv)

    def stat_at(rate: float) -> float:
        return sojourn_stat_s(kind, rate, service_s, scv, stat, servers, arrival_scv, shape)

    if stat_at(cap * 1e-9) > budget_s:
        return 0.0
    lo, hi = cap * 1e-9, cap
    for _ in range(60 if stat == "mean" else 40):
        mid = (lo + hi) / 2
        if stat_at(mid) <= budget_s:
            lo = mid
        else:
            hi = mid
    return lo
