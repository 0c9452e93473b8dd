"""Prefill capacity models: the largest arrival rate a prefill queue (or pool) serves with a
TTFT statistic within budget. Pure functions on floats.

Kinds:

- ``mm1``: the paper's M/M/1 per instance (exponential service). Mean and exact quantiles.
- ``mg1``: M/G/1 per instance with the service-time SCV implied by the ISL distribution
  (``scv = 0``: fixed ISL, M/D/1). Mean by Pollaczek-Khinchine, quantiles by the exponential
  tail approximation of :mod:`pdplan.queueing.mg1`.
- pooled (``servers = c > 1``): one queue served by c instances, M/G/c by the
  Allen-Cunneen-style scaling of Erlang C, ``Wq ~ Wq(M/M/c) * (1 + scv) / 2``.

``budget_s`` is TTFT minus the fixed overhead; ``stat`` is ``mean``, ``p50``, ``p90``, ``p99``.
"""

from __future__ import annotations

import math
from typing import Literal

from pdplan.queueing.erlang_c import erlang_c
from pdplan.queueing.mm1 import mm1_mean_sojourn_s, mm1_sojourn_quantile_s

__all__ = ["PrefillKind", "Stat", "max_rate_rps", "sojourn_stat_s"]

PrefillKind = Literal["mm1", "mg1"]
Stat = Literal["mean", "p50", "p90", "p99"]
_QUANTILE = {"p50": 0.5, "p90": 0.9, "p99": 0.99}


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
    if kind == "mm1" and servers == 1:
        if stat == "mean":
            return mm1_mean_sojourn_s(rate_rps, mu)
        return mm1_sojourn_quantile_s(rate_rps, mu, _QUANTILE[stat])
    if rate_rps == 0:
        return service_s
    shape = 1.0 if kind == "mm1" else (1 + scv) / 2
    p_wait = erlang_c(servers, rate_rps / mu)
    cond_wait = shape / (servers * mu - rate_rps)  # mean wait of those who wait
    if stat == "mean":
        return service_s + p_wait * cond_wait
    q = _QUANTILE[stat]
    if 1 - q >= p_wait:
        return service_s
    return service_s + cond_wait * math.log(p_wait / (1 - q))


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
