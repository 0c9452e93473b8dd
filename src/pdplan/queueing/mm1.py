"""The M/M/1 queue: Poisson arrivals, exponential service, one server, FCFS.

The paper (arXiv 2603.04716, eqs. 9-13) models one prefill instance as M/M/1 with service
rate ``mu = TPmax / ISL``. Standard results (Kleinrock, *Queueing Systems* vol. 1, 3.2):

- utilization ``rho = lambda / mu``, stable only while ``rho < 1``;
- mean sojourn (wait + service) ``T = 1 / (mu - lambda)``;
- the sojourn time is exponential with rate ``mu - lambda``, so its q-quantile is
  ``-ln(1 - q) / (mu - lambda)``.

Here ``lam`` (lambda) is the arrival rate and ``mu`` the service rate, both in requests/s.
"""

from __future__ import annotations

import math

from pdplan.errors import ConfigError, UnstableQueueError

__all__ = [
    "mm1_max_arrival_rate_rps",
    "mm1_mean_sojourn_s",
    "mm1_mean_wait_s",
    "mm1_sojourn_quantile_s",
]


def _check_stable(arrival_rate_rps: float, service_rate_rps: float) -> None:
    if not service_rate_rps > 0:
        raise ConfigError(f"service_rate_rps must be > 0, got {service_rate_rps}")
    if not arrival_rate_rps >= 0:
        raise ConfigError(f"arrival_rate_rps must be >= 0, got {arrival_rate_rps}")
    if arrival_rate_rps >= service_rate_rps:
        rho = arrival_rate_rps / service_rate_rps
        raise UnstableQueueError(
            f"M/M/1 unstable: rho={rho:.3g} (arrival_rate_rps={arrival_rate_rps:.6g}, "
            f"service_rate_rps={service_rate_rps:.6g}); need rho < 1: add instances or lower load"
        )


def mm1_mean_sojourn_s(arrival_rate_rps: float, service_rate_rps: float) -> float:
    """Mean time in system (queue + service) of an M/M/1 queue.

    T = 1 / (mu - lambda)

    :param arrival_rate_rps: lambda, requests/s, >= 0
    :param service_rate_rps: mu, requests/s, > lambda
    :return: mean sojourn in seconds
    :raises UnstableQueueError: if rho >= 1

    >>> mm1_mean_sojourn_s(arrival_rate_rps=5.0, service_rate_rps=10.0)
    0.2
    """
    _check_stable(arrival_rate_rps, service_rate_rps)
    return 1.0 / (service_rate_rps - arrival_rate_rps)


def mm1_mean_wait_s(arrival_rate_rps: float, service_rate_rps: float) -> float:
    """Mean time in queue (excluding service) of an M/M/1 queue.

    Wq = rho / (mu - lambda), with rho = lambda / mu.

    :param arrival_rate_rps: lambda, requests/s, >= 0
    :param service_rate_rps: mu, requests/s, > lambda
    :return: mean wait in seconds
    :raises UnstableQueueError: if rho >= 1

    >>> mm1_mean_wait_s(arrival_rate_rps=5.0, service_rate_rps=10.0)
    0.1
    """
    _check_stable(arrival_rate_rps, service_rate_rps)
    rho = arrival_rate_rps / service_rate_rps
    return rho / (service_rate_rps - arrival_rate_rps)


def mm1_sojourn_quantile_s(
    arrival_rate_rps: float, service_rate_rps: float, quantile: float
) -> float:
    """The q-quantile of the M/M/1 sojourn time (FCFS).

    The sojourn is exponential with rate mu - lambda: t_q = -ln(1 - q) / (mu - lambda).

    :param quantile: q in (0, 1), e.g. 0.9 for p90
    :return: seconds
    :raises UnstableQueueError: if rho >= 1

    >>> round(mm1_sojourn_quantile_s(5.0, 10.0, 0.9), 4)
    0.4605
    """
    if not 0.0 < quantile < 1.0:
        raise ConfigError(f"quantile must be in (0, 1), got {quantile}")
    _check_stable(arrival_rate_rps, service_rate_rps)
    return -math.log1p(-quantile) / (service_rate_rps - arrival_rate_rps)


def mm1_max_arrival_rate_rps(service_rate_rps: float, mean_sojourn_s: float) -> float:
    """Largest arrival rate whose M/M/1 mean sojourn does not exceed a target.

    Inverting T = 1 / (mu - lambda): lambda_max = mu - 1 / T. Positive only while the
    target exceeds the bare service time 1/mu.

    :param service_rate_rps: mu, requests/s, > 0
    :param mean_sojourn_s: target mean sojourn T in seconds, > 1/mu
    :return: lambda_max in requests/s, in (0, mu)
    :raises ConfigError: if T <= 1/mu (no load at all meets the target)

    >>> mm1_max_arrival_rate_rps(service_rate_rps=10.0, mean_sojourn_s=0.2)
    5.0
    """
    if not service_rate_rps > 0:
        raise ConfigError(f"service_rate_rps must be > 0, got {service_rate_rps}")
    service_time_s = 1.0 / service_rate_rps
    if not mean_sojourn_s > service_time_s:
        raise ConfigError(
            f"mean_sojourn_s must exceed the service time 1/mu = {service_time_s:.6g} s, "
            f"got {mean_sojourn_s:.6g} s"
        )
    return service_rate_rps - 1.0 / mean_sojourn_s
