"""Decode capacity models: the largest request rate a pool of decode instances serves with a
TPOT statistic within the SLO. Pure functions on floats.

- ``paper`` (held batch): the batch B* whose TPOT meets the SLO is held constantly, so an
  instance serves ``B* / TPOT(B*) / OSL`` requests/s (arXiv 2603.04716). Exact only if the
  total number of requests in decode never moves.
- fluctuating batch (``queueing``/``auto``): the requests in decode form an infinite-server
  queue; an arriving request finds ``N`` others with mean ``m`` and, under least-loaded
  routing across ``n`` instances, joins the least-loaded one: a batch of ``ceil((N + 1) /
  n)``; it runs at the TPOT of that batch. Little's law closes the loop:
  ``m = rate * (OSL - 1) * E[TPOT]``. TPOT is convex in the batch, so fluctuation costs
  capacity, most on few instances. Random routing is ``n`` single instances, each fed a
  thinned stream.
- what an arrival finds: Poisson arrivals see time averages, ``N ~ Poisson(m)``. Bursty
  arrivals (index of dispersion of counts ``D > 1``; the asymptotic index of a renewal process
  is its inter-arrival SCV) are overdispersed -- a negative binomial of variance ``m D``, ``NB(r,
  q)`` -- and an arrival comes with a burst, so it finds the size-biased count, ``NB(r + 1,
  q)``: about ``D - 1`` more others. Smoother than Poisson (``D < 1``) keeps the Poisson
  (conservative). Random thinning to one of ``n`` instances leaves ``1 + (D - 1) / n``.
- a percentile of TPOT uses the same distribution (conservative: a request's TPOT averages
  over its life). An arrival that finds every slot of the pool taken waits for one: its TPOT
  is stretched by the queue ahead of it (:func:`_tpot_atoms`); the mean number in decode is
  searched up to every slot taken, never past it.

Checked against the simulator (README, "Planning for real traffic"), capacity error on 1-9
instances: Poisson +2 % (one instance) to -1.3 %; gamma arrivals of SCV 4 and 9 within
+2.1 % .. -8 % (conservative on one instance at SCV 9). The held batch is +10 % (SCV 4) and
+28 % (SCV 9) on two instances.
``table[k]`` is the TPOT at batch ``k + 1``, seconds.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from pdplan.quantiles import STAT_QUANTILE, Stat

__all__ = [
    "batch_tpot_atoms",
    "fluctuating_max_rate_rps",
    "fluctuating_tpot_stat_s",
]

_TAIL = 1e-12
_BISECT_REL = 1e-10  # bisection on the mean number in decode stops at this relative width


def _found_pmf(mean: float, dispersion: float) -> tuple[int, list[float]]:
    """The distribution of the others an arrival finds: ``(first k, [P(N = k), ...])``,
    Poisson (``dispersion <= 1``) or the size-biased negative binomial, computed in logs from
    the mode outwards so that large means neither underflow nor cost a pass from 0.

    >>> first, pmf = _found_pmf(1.0, 1.0)
    >>> first, [round(p, 4) for p in pmf[:3]]
    (0, [0.3679, 0.3679, 0.1839])
    >>> first, pmf = _found_pmf(5.0, 4.0)  # NB(r + 1, q): mean 5 + (4 - 1) = 8
    >>> round(sum((first + k) * p for k, p in enumerate(pmf)), 4)
    8.0
    """
    if mean <= 0:
        if dispersion <= 1:
            return 0, [1.0]
        mean = 1e-12
    if dispersion <= 1:

        def log_p(k: int) -> float:
            return k * math.log(mean) - mean - math.lgamma(k + 1)

        def ratio(k: int) -> float:  # P(k + 1) / P(k)
            return mean / (k + 1)

        mode = int(mean)
    else:
        q = 1 - 1 / dispersion
        r = mean / (dispersion - 1) + 1  # size-biased: one more success

        def log_p(k: int) -> float:
            return (
                math.lgamma(r + k)
                - math.lgamma(r)
                - math.lgamma(k + 1)
                + r * math.log1p(-q)
                + k * math.log(q)
            )

        def ratio(k: int) -> float:
            return (r + k) / (k + 1) * q

        mode = max(0, int((r - 1) * q / (1 - q)))
    center = math.exp(log_p(mode))
    right, p, k = [], center, mode
    while True:
        p *= ratio(k)
        k += 1
        if p < _TAIL * center or p == 0:
            break
        right.append(p)
    left, p, k = [], center, mode
    while k > 0:
        p /= ratio(k - 1)
        k -= 1
        if p < _TAIL * center or p == 0:
            break
        left.append(p)
    first = mode - len(left)
    return first, [*reversed(left), center, *right]


def _tpot_atoms(
    mean_others: float, table: list[float], dispersion: float, instances: int
) -> list[tuple[float, float]]:
    """``(TPOT, probability)`` seen by an arrival when ``mean_others`` are in decode.

    An arrival that finds every slot of the pool taken (``k + 1 > instances * cap``) waits
    for ``k + 1 - instances * cap`` completions, which come ``instances * cap`` at a time per
    residence ``(OSL - 1) TPOT(cap)``: its TPOT is ``TPOT(cap) (k + 1) / (instances * cap)``.
    """
    first, pmf = _found_pmf(mean_others, dispersion)
    total = sum(pmf)
    cap = len(table)
    slots = cap * instances
    atoms: dict[int, float] = {}
    over: list[tuple[float, float]] = []
    for k, p in enumerate(pmf, start=first):
        if k + 1 > slots:
            over.append((table[-1] * (k + 1) / slots, p / total))
        else:
            batch = -(-(k + 1) // instances)  # ceil: the least-loaded instance it joins
            atoms[batch] = atoms.get(batch, 0.0) + p
    return [(table[b - 1], p / total) for b, p in sorted(atoms.items())] + over


def _stat(atoms: list[tuple[float, float]], stat: Stat) -> float:
    if stat == "mean":
        return sum(t * p for t, p in atoms)
    target, acc = STAT_QUANTILE[stat], 0.0
    for t, p in atoms:
        acc += p
        if acc >= target - 1e-12:
            return t
    return atoms[-1][0]


def _at_mean_others(
    mean_others: float, table: list[float], osl: float, stat: Stat, dispersion: float, n: int
) -> tuple[float, float]:
    """(pool rate by Little's law, TPOT statistic) when ``mean_others`` are in decode."""
    atoms = _tpot_atoms(mean_others, table, dispersion, n)
    mean_tpot = sum(t * p for t, p in atoms)
    return mean_others / (max(osl - 1, 1) * mean_tpot), _stat(atoms, stat)


#: Past this many times the pool's slots in decode (running plus waiting for a slot), the
#: pool counts as overloaded: TPOT is then at least this many times TPOT(cap).
_OVERLOAD_SLOTS = 4.0


def _mean_others_at_rate(
    rate_rps: float, table: list[float], osl: float, dispersion: float, n: int
) -> float | None:
    """The mean number in decode at a pool rate (Little), None when the pool is overloaded
    (more than :data:`_OVERLOAD_SLOTS` times its slots in decode, most of them waiting)."""
    if rate_rps <= 0:
        return 0.0
    limit = _OVERLOAD_SLOTS * n * len(table)
    lo, hi = 0.0, min(1.0, limit)
    while _at_mean_others(hi, table, osl, "mean", dispersion, n)[0] < rate_rps:
        if hi >= limit:  # the rate is never reached (Little's rate peaks where b / TPOT(b) does)
            return None
        lo, hi = hi, min(hi * 2, limit)
    while hi - lo > _BISECT_REL * hi:
        mid = (lo + hi) / 2
        if _at_mean_others(mid, table, osl, "mean", dispersion, n)[0] < rate_rps:
            lo = mid
        else:
            hi = mid
    return hi


def batch_tpot_atoms(
    rate_rps: float, table: list[float], osl: float, dispersion: float = 1.0, instances: int = 1
) -> list[tuple[float, float]] | None:
    """The TPOT a request sees at pool rate ``rate_rps``, as ``(TPOT s, probability)``
    atoms (those past the batch cap waited for a slot); None when the pool is overloaded.

    >>> atoms = batch_tpot_atoms(1.0, [0.01, 0.02], 11)
    >>> round(sum(p for _, p in atoms), 6), atoms[0][0]
    (1.0, 0.01)
    """
    mean_others = _mean_others_at_rate(rate_rps, table, osl, dispersion, instances)
    if mean_others is None:
        return None
    return _tpot_atoms(mean_others, table, dispersion, instances)


def fluctuating_tpot_stat_s(
    rate_rps: float,
    tpot_s: Callable[[int], float],
    max_batch: int,
    osl: float,
    stat: Stat,
    dispersion: float = 1.0,
    instances: int = 1,
) -> float:
    """TPOT statistic at pool rate ``rate_rps`` with a fluctuating batch (inf when the pool
    is overloaded).

    >>> round(fluctuating_tpot_stat_s(0.0, lambda b: 0.01 * b, 8, 100, "mean"), 6)
    0.01
    """
    table = [tpot_s(b) for b in range(1, max_batch + 1)]
    atoms = batch_tpot_atoms(rate_rps, table, osl, dispersion, instances)
    return math.inf if atoms is None else _stat(atoms, stat)


def fluctuating_max_rate_rps(
    tpot_s: Callable[[int], float],
    max_batch: int,
    osl: float,
    tpot_slo_s: float,
    stat: Stat,
    dispersion: float = 1.0,
    instances: int = 1,
) -> float:
    """Largest pool rate whose fluctuating-batch TPOT statistic meets the SLO (0 if none).

    Bisection on the mean number in decode: the statistic grows with it, and the rate follows
    from Little's law.

    A flat TPOT of 10 ms and a 11 ms SLO: the pool runs up to its 64 slots taken on average
    (arrivals that find them all taken wait for one), short of the 64 req/s of every slot
    always taken:

    >>> round(fluctuating_max_rate_rps(lambda b: 0.01, 64, 101, 0.011, "mean"), 1)
    60.5
    """
    table = [tpot_s(b) for b in range(1, max_batch + 1)]
    if _stat([(table[0], 1.0)], stat) > tpot_slo_s:
        return 0.0
    lo, hi = 0.0, float(instances * max_batch)
    best = 0.0
    while hi - lo > _BISECT_REL * hi:
        mid = (lo + hi) / 2
        got = _at_mean_others(mid, table, osl, stat, dispersion, instances)
        if got[1] <= tpot_slo_s:
            lo, best = mid, got[0]
        else:
            hi = mid
    return best
