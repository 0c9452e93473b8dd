"""Decode capacity models: the largest request rate one decode instance serves with a TPOT
statistic within the SLO. Pure functions on floats.

- ``paper``: the batch B* whose TPOT meets the SLO is held constantly, so an instance serves
  ``B* / TPOT(B*) / OSL`` requests/s (arXiv 2603.04716). Exact when a least-loaded router
  keeps every batch at its mean.
- ``poisson``: with random routing, or on a single instance fed by Poisson arrivals (which
  no router can balance), the batch of an instance fluctuates; treated as M/G/inf,
  the other requests an arrival finds are Poisson with mean m, so it runs at
  ``TPOT(1 + N)``, ``N ~ Poisson(m)``; Little's law closes the loop,
  ``m = rate * (OSL - 1) * E[TPOT(1 + N)]``. TPOT is convex in the batch, so the mean TPOT at
  a given rate is above TPOT(mean batch): fewer requests per instance than the paper's rule.
  A percentile of TPOT uses the same distribution (conservative: a request's TPOT averages
  over its life). Rates where ``1 + N`` exceeds the batch cap with probability > 1 % are
  refused (requests would queue).
- bursty arrivals (inter-arrival SCV, or index of dispersion of counts, ``dispersion > 1``):
  the number of requests in decode over a request's life is overdispersed; a negative
  binomial with the same mean and variance ``m * dispersion`` (the asymptotic index of
  dispersion of a renewal process is its inter-arrival SCV) replaces the Poisson. Smoother
  than Poisson (``dispersion < 1``) keeps the Poisson (conservative).

``tpot_s`` maps a batch (1..max_batch) to seconds.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from pdplan.quantiles import STAT_QUANTILE, Stat

__all__ = ["batch_tpot_atoms", "poisson_max_rate_rps", "poisson_tpot_stat_s"]


def _count_pmf(mean: float, upto: int, dispersion: float = 1.0) -> list[float]:
    """P(N = k) for k = 0..upto of a Poisson (``dispersion <= 1``) or a negative binomial of
    variance ``mean * dispersion``; stopped early once past the mode and negligible.

    >>> [round(p, 4) for p in _count_pmf(1.0, 2)]
    [0.3679, 0.3679, 0.1839]
    >>> round(sum(_count_pmf(5.0, 400, dispersion=4.0)), 6)
    1.0
    """
    if mean <= 0:
        return [1.0]
    if dispersion <= 1.0:
        log_p0, ratio = -mean, None
    else:  # r successes, success probability 1 - q: mean r q / (1 - q), variance mean / (1 - q)
        q = 1 - 1 / dispersion
        r = mean / (dispersion - 1)
        log_p0, ratio = r * math.log1p(-q), (r, q)
    if log_p0 < -700:  # exp would underflow: the mass lies far beyond any decode batch cap
        return [0.0] * (upto + 1)
    p, out = math.exp(log_p0), []
    for k in range(upto + 1):
        out.append(p)
        if ratio is None:
            p *= mean / (k + 1)
        else:
            p *= (ratio[0] + k) / (k + 1) * ratio[1]
        if k > mean and p < 1e-12:
            break
    return out


def _stat_s(
    rate_rps: float, table: list[float], osl: float, stat: Stat, dispersion: float = 1.0
) -> float:
    """``table[k]`` is TPOT at batch ``k + 1``; see :func:`poisson_tpot_stat_s`."""
    max_batch = len(table)
    if rate_rps <= 0:
        return table[0]
    m = rate_rps * (osl - 1) * table[0]
    mean_tpot = table[0]
    for _ in range(100):
        if m + 1 > max_batch:
            return math.inf
        pmf = _count_pmf(m, max_batch - 1, dispersion)
        mass = sum(pmf)
        if 1 - mass > 0.01:
            return math.inf
        mean_tpot = sum(p * t for p, t in zip(pmf, table, strict=False)) / mass
        new_m = rate_rps * (osl - 1) * mean_tpot
        if abs(new_m - m) < 1e-9 * max(1.0, m):
            break
        m = new_m
    if stat == "mean":
        return mean_tpot
    target, acc = STAT_QUANTILE[stat] * mass, 0.0
    for k, p in enumerate(pmf):
        acc += p
        if acc >= target:
            return table[k]
    return table[len(pmf) - 1]


def batch_tpot_atoms(
    rate_rps: float, table: list[float], osl: float, dispersion: float = 1.0
) -> list[tuple[float, float]] | None:
    """The distribution of the TPOT a request sees at ``rate_rps`` per instance under batch
    fluctuation, as ``(TPOT s, probability)`` atoms; ``table[k]`` is TPOT at batch ``k + 1``.
    None when the batch cap is hit more than 1 % of the time (requests would queue).

    >>> atoms = batch_tpot_atoms(1.0, [0.01, 0.02], 11)
    >>> round(sum(p for _, p in atoms), 6), atoms[0][0]
    (1.0, 0.01)
    """
    if rate_rps <= 0:
        return [(table[0], 1.0)]
    mean_tpot = _stat_s(rate_rps, table, osl, "mean", dispersion)
    if math.isinf(mean_tpot):
        return None
    m = rate_rps * (osl - 1) * mean_tpot
    pmf = _count_pmf(m, len(table) - 1, dispersion)
    mass = sum(pmf)
    return [(table[k], p / mass) for k, p in enumerate(pmf) if p > 0]


def poisson_tpot_stat_s(
    rate_rps: float,
    tpot_s: Callable[[int], float],
    max_batch: int,
    osl: float,
    stat: Stat,
    dispersion: float = 1.0,
) -> float:
    """TPOT statistic at ``rate_rps`` per instance under batch fluctuation (inf if the batch
    cap would be hit more than 1 % of the time)."""
    table = [tpot_s(b) for b in range(1, max_batch + 1)]
    return _stat_s(rate_rps, table, osl, stat, dispersion)


def poisson_max_rate_rps(
    tpot_s: Callable[[int], float],
    max_batch: int,
    osl: float,
    tpot_slo_s: float,
    stat: Stat,
    dispersion: float = 1.0,
) -> float:
    """Largest per-instance rate whose fluctuating-batch TPOT statistic meets the SLO."""
    table = [tpot_s(b) for b in range(1, max_batch + 1)]
    if _stat_s(1e-12, table, osl, stat, dispersion) > tpot_slo_s:
        return 0.0
    lo, hi = 0.0, max_batch / table[-1] / max(osl - 1, 1)
    for _ in range(48):
        mid = (lo + hi) / 2
        if _stat_s(mid, table, osl, stat, dispersion) <= tpot_slo_s:
            lo = mid
        else:
            hi = mid
    return lo
