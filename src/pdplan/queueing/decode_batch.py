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
from collections.abc import Callable, Sequence

import numpy as np

from pdplan.quantiles import STAT_QUANTILE, Stat

__all__ = [
    "batch_tpot_atoms",
    "fluctuating_max_rate_rps",
    "fluctuating_tpot_stat_s",
]

_TAIL = 1e-12
_BISECT_REL = 1e-10  # a root in the mean number in decode is found to this relative width

#: ``(TPOT s, probability)`` atoms as two arrays, in the order of the batch they come from.
Atoms = tuple["np.ndarray", "np.ndarray"]


def _tail(
    center: float,
    ratios: Callable[[np.ndarray], np.ndarray],
    ks: Callable[[int], np.ndarray],
    op: np.ufunc,
    n: int,
) -> np.ndarray:
    """The probabilities on one side of the mode, ``center`` folded with the ratios of
    successive ``ks(n)`` by ``op`` (multiply going right, divide going left, as a loop would),
    down to the last one at least ``_TAIL * center`` (they fall away from the mode); the chunk
    of ``n`` grows until the tail is found."""
    while True:
        k = ks(n)
        folded = op.accumulate(np.concatenate(([center], ratios(k))))[1:]
        kept = int(np.count_nonzero(folded >= _TAIL * center))
        if kept < folded.size or k.size < n:  # past the tail, or the left side ran out at 0
            return folded[:kept]
        n *= 4


def _found_pmf(mean: float, dispersion: float) -> tuple[int, np.ndarray]:
    """The distribution of the others an arrival finds: ``(first k, [P(N = k), ...])``,
    Poisson (``dispersion <= 1``) or the size-biased negative binomial, computed in logs at
    the mode and by successive ratios outwards, so that large means neither underflow nor
    cost a pass from 0.

    >>> first, pmf = _found_pmf(1.0, 1.0)
    >>> first, [round(float(p), 4) for p in pmf[:3]]
    (0, [0.3679, 0.3679, 0.1839])
    >>> first, pmf = _found_pmf(5.0, 4.0)  # NB(r + 1, q): mean 5 + (4 - 1) = 8
    >>> round(float(sum((first + k) * p for k, p in enumerate(pmf))), 4)
    8.0
    """
    if mean <= 0:
        if dispersion <= 1:
            return 0, np.ones(1)
        mean = 1e-12
    ratio: Callable[[np.ndarray], np.ndarray]
    if dispersion <= 1:
        mode = int(mean)
        log_center = mode * math.log(mean) - mean - math.lgamma(mode + 1)

        def ratio(k: np.ndarray) -> np.ndarray:  # P(k + 1) / P(k)
            return mean / (k + 1)

    else:
        q = 1 - 1 / dispersion
        r = mean / (dispersion - 1) + 1  # size-biased: one more success
        mode = max(0, int((r - 1) * q / (1 - q)))
        log_center = (
            math.lgamma(r + mode)
            - math.lgamma(r)
            - math.lgamma(mode + 1)
            + r * math.log1p(-q)
            + mode * math.log(q)
        )

        def ratio(k: np.ndarray) -> np.ndarray:
            out: np.ndarray = (r + k) / (k + 1) * q
            return out

    center = math.exp(log_center)
    chunk = int(8 * math.sqrt(mean * max(dispersion, 1.0))) + 32  # past the tail, usually
    right = _tail(
        center, ratio, lambda n: np.arange(mode, mode + n, dtype=float), np.multiply, chunk
    )
    left = _tail(
        center,
        ratio,
        lambda n: np.arange(mode - 1, max(mode - 1 - n, -1), -1, dtype=float),
        np.divide,
        chunk,
    )
    first = mode - left.size
    return first, np.concatenate((left[::-1], [center], right))


def _tpot_atoms(mean_others: float, table: np.ndarray, dispersion: float, instances: int) -> Atoms:
    """``(TPOT, probability)`` seen by an arrival when ``mean_others`` are in decode.

    An arrival that finds every slot of the pool taken (``k + 1 > instances * cap``) waits
    for ``k + 1 - instances * cap`` completions, which come ``instances * cap`` at a time per
    residence ``(OSL - 1) TPOT(cap)``: its TPOT is ``TPOT(cap) (k + 1) / (instances * cap)``.
    """
    first, pmf = _found_pmf(mean_others, dispersion)
    total = float(pmf.sum())
    slots = table.size * instances
    found = np.arange(first + 1, first + 1 + pmf.size)  # k + 1: itself and the others
    inside = found <= slots
    batch = -(-found[inside] // instances)  # ceil: the least-loaded instance it joins
    b0 = int(batch[0]) if batch.size else 1  # every batch from b0 to the last is some k's
    weight = np.bincount(batch - b0, weights=pmf[inside])
    times = np.concatenate(
        (table[b0 - 1 : b0 - 1 + weight.size], table[-1] * found[~inside] / slots)
    )
    probs = np.concatenate((weight, pmf[~inside])) / total
    return times, probs


def _stat(atoms: Atoms, stat: Stat) -> float:
    times, probs = atoms
    if stat == "mean":
        return float(times @ probs)
    reached = np.flatnonzero(np.cumsum(probs) >= STAT_QUANTILE[stat] - 1e-12)
    return float(times[reached[0]] if reached.size else times[-1])


def _at_mean_others(
    mean_others: float, table: np.ndarray, osl: float, stat: Stat, dispersion: float, n: int
) -> tuple[float, float]:
    """(pool rate by Little's law, TPOT statistic) when ``mean_others`` are in decode."""
    atoms = _tpot_atoms(mean_others, table, dispersion, n)
    mean_tpot = float(atoms[0] @ atoms[1])
    return mean_others / (max(osl - 1, 1) * mean_tpot), _stat(atoms, stat)


#: Past this many times the pool's slots in decode (running plus waiting for a slot), the
#: pool counts as overloaded: TPOT is then at least this many times TPOT(cap).
_OVERLOAD_SLOTS = 4.0


def _mean_others_at_rate(
    rate_rps: float, table: np.ndarray, osl: float, dispersion: float, n: int
) -> float | None:
    """The mean number in decode at a pool rate (Little), None when the pool is overloaded
    (more than :data:`_OVERLOAD_SLOTS` times its slots in decode, most of them waiting)."""
    if rate_rps <= 0:
        return 0.0

    def excess(mean_others: float) -> float:
        return _at_mean_others(mean_others, table, osl, "mean", dispersion, n)[0] - rate_rps

    limit = _OVERLOAD_SLOTS * n * table.size
    lo, hi = 0.0, min(1.0, limit)
    f_lo, f_hi = -rate_rps, excess(hi)
    while f_hi < 0:
        if hi >= limit:  # the rate is never reached (Little's rate peaks where b / TPOT(b) does)
            return None
        lo, f_lo = hi, f_hi
        hi = min(hi * 2, limit)
        f_hi = excess(hi)
    return _upper_root(excess, lo, hi, f_lo, f_hi)  # Little's rate rises strictly with it


def _upper_root(
    f: Callable[[float], float], lo: float, hi: float, f_lo: float, f_hi: float
) -> float:
    """The upper end of a bracket ``[lo, hi]`` of the root of an increasing ``f`` (``f(lo) < 0
    <= f(hi)``) narrowed to :data:`_BISECT_REL` relative width by the Illinois method: regula
    falsi that halves the value at an end kept twice in a row (superlinear where ``f`` is
    smooth, a bracket always; about 8 evaluations where bisection takes 34)."""
    kept = 0  # which end the last step kept: -1 the lower, 1 the upper
    while hi - lo > _BISECT_REL * hi:
        x = hi - f_hi * (hi - lo) / (f_hi - f_lo) if f_hi != f_lo else lo
        if not lo < x < hi:  # flat, or rounding at the ends: bisect
            x = (lo + hi) / 2
        fx = f(x)
        if fx < 0:
            lo, f_lo = x, fx
            if kept == 1:
                f_hi /= 2
            kept = 1
        else:
            hi, f_hi = x, fx
            if kept == -1:
                f_lo /= 2
            kept = -1
    return hi


def batch_tpot_atoms(
    rate_rps: float,
    table: Sequence[float],
    osl: float,
    dispersion: float = 1.0,
    instances: int = 1,
) -> list[tuple[float, float]] | None:
    """The TPOT a request sees at pool rate ``rate_rps``, as ``(TPOT s, probability)``
    atoms (those past the batch cap waited for a slot); None when the pool is overloaded.

    >>> atoms = batch_tpot_atoms(1.0, [0.01, 0.02], 11)
    >>> round(sum(p for _, p in atoms), 6), atoms[0][0]
    (1.0, 0.01)
    """
    atoms = _atoms_at_rate(rate_rps, np.asarray(table, dtype=float), osl, dispersion, instances)
    return None if atoms is None else list(zip(atoms[0].tolist(), atoms[1].tolist(), strict=True))


def _atoms_at_rate(
    rate_rps: float, table: np.ndarray, osl: float, dispersion: float, instances: int
) -> Atoms | None:
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
    table = np.array([tpot_s(b) for b in range(1, max_batch + 1)])
    atoms = _atoms_at_rate(rate_rps, table, osl, dispersion, instances)
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
    table = np.array([tpot_s(b) for b in range(1, max_batch + 1)])
    if table[0] > tpot_slo_s:  # even alone
        return 0.0
    lo, hi = 0.0, float(instances * max_batch)
    best = 0.0  # bisection: the statistic may sit flat on the SLO (a flat curve's start)
    while hi - lo > _BISECT_REL * hi:
        mid = (lo + hi) / 2
        got = _at_mean_others(mid, table, osl, stat, dispersion, instances)
        if got[1] <= tpot_slo_s:
            lo, best = mid, got[0]
        else:
            hi = mid
    return best
