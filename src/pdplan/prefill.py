"""Prefill capacity models: the largest arrival rate a prefill queue (or pool) serves with a
TTFT statistic within budget. Pure functions on floats.

Kinds:

- ``mm1``: the paper's M/M/1 per instance (exponential service). Mean and exact quantiles.
- ``mg1``: M/G/1 per instance with the service-time SCV implied by the ISL distribution
  (``scv = 0``: fixed ISL, M/D/1). Mean by Pollaczek-Khinchine.
- pooled (``servers = c > 1``): one queue served by c instances, M/G/c by the
  Allen-Cunneen-style scaling of Erlang C, ``Wq ~ Wq(M/M/c) * (1 + scv) / 2``.

Percentiles (except the exact M/M/1 ones) fit a gamma distribution to the first two moments
of the sojourn ``T = W + S`` (W and S independent under FCFS): ``Var S = scv * E[S]^2``;
``E[W^2]`` by Takacs for M/G/1 (service third moment from a gamma service time) and from the
exponential conditional wait for M/G/c; the gamma quantile by Wilson-Hilferty. The service
time's own spread counts: with variable ISL the p90 TTFT exceeds E[S] even at zero load.

``budget_s`` is TTFT minus the fixed overhead; ``stat`` is ``mean``, ``p50``, ``p90``, ``p99``.
"""

from __future__ import annotations

import math
from typing import Literal

from pdplan.quantiles import STAT_QUANTILE, Stat
from pdplan.queueing.erlang_c import erlang_c
from pdplan.queueing.mm1 import mm1_mean_sojourn_s, mm1_sojourn_quantile_s

__all__ = ["PrefillKind", "max_rate_rps", "sojourn_stat_s"]

PrefillKind = Literal["mm1", "mg1"]


def sojourn_stat_s(
    kind: PrefillKind,
    rate_rps: float,
    service_s: float,
    scv: float,
    stat: Stat,
    servers: int = 1,
) -> float:
    """The chosen statistic of the sojourn (wait + service) at ``rate_rps``, seconds.

    >>> round(sojourn_stat_s("mm1", 8.0, 0.1, 1.0, "mean"), 6)
    0.5
    >>> round(sojourn_stat_s("mg1", 8.0, 0.1, 0.0, "mean"), 6)  # M/D/1
    0.3
    """
    mu = 1.0 / service_s
    if rate_rps >= servers * mu:
        return math.inf
    if servers == 1 and (kind == "mm1" or scv == 1.0):  # exponential service: exact M/M/1
        if stat == "mean":
            return mm1_mean_sojourn_s(rate_rps, mu)
        return mm1_sojourn_quantile_s(rate_rps, mu, STAT_QUANTILE[stat])
    shape = 1.0 if kind == "mm1" else (1 + scv) / 2
    if servers == 1:
        rho = rate_rps * service_s
        s2 = service_s**2 * (1 + scv)
        s3 = service_s**3 * (1 + scv) * (1 + 2 * scv)
        wait = rate_rps * s2 / (2 * (1 - rho))
        wait2 = 2 * wait**2 + rate_rps * s3 / (3 * (1 - rho))
    else:
        p_wait = erlang_c(servers, rate_rps / mu) if rate_rps > 0 else 0.0
        cond_wait = shape / (servers * mu - rate_rps)  # mean wait of those who wait
        wait, wait2 = p_wait * cond_wait, 2 * p_wait * cond_wait**2
    mean = service_s + wait
    if stat == "mean":
        return mean
    variance = scv * service_s**2 + wait2 - wait**2
    return _gamma_quantile(mean, variance, _Z[stat])


_Z = {"p50": 0.0, "p90": 1.2815516, "p99": 2.3263479}


def _gamma_quantile(mean: float, variance: float, z: float) -> float:
    """Quantile of the gamma distribution with this mean and variance (Wilson-Hilferty).

    >>> round(_gamma_quantile(1.0, 1.0, 1.2815516), 3)  # exponential p90 = ln 10 = 2.303
    2.28
    """
    if variance <= 0:
        return mean
    k = mean**2 / variance
    base = 1 - 1 / (9 * k) + z * math.sqrt(1 / (9 * k))
    return mean * max(base, 0.0) ** 3


def max_rate_rps(
    kind: PrefillKind,
    service_s: float,
    scv: float,
    budget_s: float,
    stat: Stat,
    servers: int = 1,
) -> float:
    """Largest arrival rate with ``sojourn_stat_s <= budget_s`` (0 if none), by bisection.

    >>> round(max_rate_rps("mm1", 0.1, 1.0, 0.5, "mean"), 6)  # 10 - 1/0.5
    8.0
    >>> round(max_rate_rps("mg1", 0.1, 0.0, 0.3, "mean"), 4)  # M/D/1 at T = 0.3 s
    8.0
    """
    cap = servers / service_s
    if sojourn_stat_s(kind, cap * 1e-9, service_s, scv, stat, servers) > budget_s:
        return 0.0
    lo, hi = cap * 1e-9, cap
    for _ in range(80):
        mid = (lo + hi) / 2
        if sojourn_stat_s(kind, mid, service_s, scv, stat, servers) <= budget_s:
            lo = mid
        else:
            hi = mid
    return lo
