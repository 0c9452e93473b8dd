"""The M/D/1 queue: Poisson arrivals, deterministic service time S, one server, FCFS.

Pollaczek-Khinchine with zero service-time variance (Kleinrock vol. 1, 5.7):
mean wait ``Wq = rho * S / (2 * (1 - rho))``, mean sojourn ``T = S + Wq``, with
``rho = lambda * S``. Fixed-length prefill is nearly deterministic, so this is the natural
alternative to the paper's M/M/1 (which has twice the queueing delay at equal load).
"""

from __future__ import annotations

from pdplan.errors import ConfigError, UnstableQueueError

__all__ = ["md1_mean_sojourn_s", "md1_mean_wait_s"]


def md1_mean_wait_s(arrival_rate_rps: float, service_time_s: float) -> float:
    """Mean time in queue of an M/D/1 queue: rho * S / (2 (1 - rho)).

    :param arrival_rate_rps: lambda, requests/s, >= 0
    :param service_time_s: S, seconds, > 0, with lambda * S < 1
    :raises UnstableQueueError: if rho >= 1

    >>> md1_mean_wait_s(arrival_rate_rps=5.0, service_time_s=0.1)
    0.05
    """
    if not service_time_s > 0 or not arrival_rate_rps >= 0:
        raise ConfigError(
            f"need service_time_s > 0 and arrival_rate_rps >= 0, got {service_time_s}, "
            f"{arrival_rate_rps}"
        )
    rho = arrival_rate_rps * service_time_s
    if rho >= 1:
        raise UnstableQueueError(
            f"M/D/1 unstable: rho={rho:.3g} (arrival_rate_rps={arrival_rate_rps:.6g}, "
            f"service_time_s={service_time_s:.6g}); need rho < 1"
        )
    return rho * service_time_s / (2 * (1 - rho))


def md1_mean_sojourn_s(arrival_rate_rps: float, service_time_s: float) -> float:
    """Mean time in system of an M/D/1 queue: S + Wq.

    >>> round(md1_mean_sojourn_s(arrival_rate_rps=5.0, service_time_s=0.1), 6)
    0.15
    """
    return service_time_s + md1_mean_wait_s(arrival_rate_rps, service_time_s)
