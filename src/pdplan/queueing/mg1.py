"""The M/G/1 queue: Poisson arrivals, general service time S with squared coefficient of
variation ``scv = Var(S) / E[S]^2``, one FCFS server.

Pollaczek-Khinchine mean (Kleinrock vol. 1, 5.6):
``Wq = rho * E[S] * (1 + scv) / (2 * (1 - rho))``; ``scv = 1`` is M/M/1, ``scv = 0`` is M/D/1.

Tail (an approximation, stated): the wait is 0 with probability ``1 - rho`` and otherwise
roughly exponential with mean ``Wq / rho`` (exact for M/M/1, the heavy-traffic limit for
M/G/1), so the q-quantile of the sojourn is
``E[S] + max(0, (Wq / rho) * ln(rho / (1 - q)))``.
"""

from __future__ import annotations

import math

from pdplan.errors import ConfigError, UnstableQueueError

__all__ = ["mg1_mean_wait_s", "mg1_sojourn_quantile_s"]


def mg1_mean_wait_s(arrival_rate_rps: float, mean_service_s: float, scv: float) -> float:
    """Mean wait of M/G/1 (Pollaczek-Khinchine).

    >>> round(mg1_mean_wait_s(5.0, 0.1, 1.0), 6)  # M/M/1: rho / (mu - lambda)
    0.1
    >>> round(mg1_mean_wait_s(5.0, 0.1, 0.0), 6)  # M/D/1: half of it
    0.05
    """
    if mean_service_s <= 0 or arrival_rate_rps < 0 or scv < 0:
        raise ConfigError(
            f"need mean_service_s > 0, arrival_rate_rps >= 0, scv >= 0; got "
            f"{mean_service_s}, {arrival_rate_rps}, {scv}"
        )
    rho = arrival_rate_rps * mean_service_s
    if rho >= 1:
        raise UnstableQueueError(
            f"M/G/1 unstable: rho={rho:.3g} (arrival_rate_rps={arrival_rate_rps:.6g}, "
            f"mean_service_s={mean_service_s:.6g}); need rho < 1"
        )
    return rho * mean_service_s * (1 + scv) / (2 * (1 - rho))


def mg1_sojourn_quantile_s(
    arrival_rate_rps: float, mean_service_s: float, scv: float, quantile: float
) -> float:
    """Approximate q-quantile of the M/G/1 sojourn (see the module docstring).

    >>> round(mg1_sojourn_quantile_s(5.0, 0.1, 0.0, 0.9), 4)
    0.2609
    """
    if not 0 < quantile < 1:
        raise ConfigError(f"quantile must be in (0, 1), got {quantile}")
    wq = mg1_mean_wait_s(arrival_rate_rps, mean_service_s, scv)
    rho = arrival_rate_rps * mean_service_s
    if rho == 0 or 1 - quantile >= rho:
        return mean_service_s
    return mean_service_s + (wq / rho) * math.log(rho / (1 - quantile))
