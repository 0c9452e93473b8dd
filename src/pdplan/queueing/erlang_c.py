"""The M/M/c queue (Erlang C): one FCFS queue served by c identical exponential servers.

With offered load ``a = lambda / mu`` (erlangs) and per-server utilization ``rho = a / c < 1``
(Kleinrock vol. 1, 3.5; Gross & Harris 2.3):

    P(wait) = C(c, a) = (a^c / c!) / ((1 - rho) * sum_{k<c} a^k / k! + a^c / c!)
    Wq = C(c, a) / (c * mu - lambda),   T = Wq + 1 / mu

``lam``/``mu`` are the arrival and per-server service rates in requests/s. Pooling c servers
behind one queue (least-loaded routing) waits less than c independent M/M/1 queues.
"""

from __future__ import annotations

from pdplan.errors import ConfigError, UnstableQueueError

__all__ = ["erlang_c", "mmc_mean_sojourn_s", "mmc_mean_wait_s"]


def erlang_c(servers: int, offered_load: float) -> float:
    """Probability that an arrival waits, C(c, a). Computed by a stable recurrence.

    >>> round(erlang_c(1, 0.7), 10)  # c = 1: P(wait) = rho
    0.7
    >>> round(erlang_c(2, 1.0), 4)
    0.3333
    """
    if servers < 1:
        raise ConfigError(f"servers must be >= 1, got {servers}")
    if offered_load < 0:
        raise ConfigError(f"offered_load must be >= 0, got {offered_load}")
    rho = offered_load / servers
    if rho >= 1:
        raise UnstableQueueError(
            f"M/M/c unstable: rho={rho:.3g} (offered load {offered_load:.4g} erlangs on "
            f"{servers} servers); need rho < 1: add instances or lower load"
        )
    # Erlang B by recurrence, then C = B / (1 - rho (1 - B)).
    b = 1.0
    for k in range(1, servers + 1):
        b = offered_load * b / (k + offered_load * b)
    return b / (1 - rho * (1 - b))


def mmc_mean_wait_s(arrival_rate_rps: float, service_rate_rps: float, servers: int) -> float:
    """Mean time in queue of M/M/c: C(c, a) / (c mu - lambda).

    >>> round(mmc_mean_wait_s(8.0, 10.0, 1), 6)  # equals M/M/1: rho / (mu - lambda)
    0.4
    """
    if service_rate_rps <= 0:
        raise ConfigError(f"service_rate_rps must be > 0, got {service_rate_rps}")
    c = erlang_c(servers, arrival_rate_rps / service_rate_rps)
    return c / (servers * service_rate_rps - arrival_rate_rps)


def mmc_mean_sojourn_s(arrival_rate_rps: float, service_rate_rps: float, servers: int) -> float:
    """Mean time in system of M/M/c: Wq + 1/mu.

    >>> round(mmc_mean_sojourn_s(8.0, 10.0, 1), 6)
    0.5
    """
    return mmc_mean_wait_s(arrival_rate_rps, service_rate_rps, servers) + 1 / service_rate_rps
