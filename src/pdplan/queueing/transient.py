"""The wait of a randomly routed queue over a known arrival sequence: the transient Lindley
recursion of its distribution, computed on a time grid. Pure (numpy).

With random routing each request joins one of ``c`` FCFS servers with probability ``1 / c``,
independently of everything else. Take one server (they are alike): its *free time* ``F`` (when
it finishes the work it holds) evolves over the trace's own arrivals as

    at each arrival t_i:   the request waits  W_i = max(F - t_i, 0);
                           with probability 1/c it joins: F <- max(F, t_i) + S_i

where ``S_i`` is the request's own service time (its uncached prompt, times the engine's
gamma noise). The request's wait is the wait at its own server, whose state does not depend
on this request's routing draw, so ``W_i`` has the distribution of ``max(F - t_i, 0)`` and its
sojourn that of ``max(F, t_i) + S_i - t_i``. This module carries the distribution of ``F``
along the trace on a grid of ``step_s``: no stationarity, no renewal assumption, no moment
fit. Bursts, simultaneous arrivals (batches), rate changes, the lengths each burst brings and
the backlog one minute leaves to the next are the trace's own. The errors are the grid (a
quantile is read to half a step; each service split between two bins spreads a long busy
period by a few steps) and the noise's few atoms (its mean and SCV kept). It is what the
simulator computes, as an expectation over the routing and noise draws instead of one sample
of them.

Cost: one pass over the requests, a few vector operations on the queues' live length each.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from pdplan.queueing import transient_kernel
from pdplan.queueing.sojourn import gamma_cdf, gamma_quantile

__all__ = ["TransientSojourns", "noise_atoms", "random_routing_sojourns"]

#: Mass below this is dropped from the tail of the distributions.
_TINY = 1e-13
#: From this many requests on, the compiled kernel runs the recursion when numba is installed
#: (``pdplan[fast]``; :mod:`pdplan.queueing.transient_kernel`): below, its first compilation
#: would cost more than it saves.
COMPILED_FROM = 100_000


def noise_atoms(scv: float, points: int = 5) -> tuple[tuple[float, float], ...]:
    """Equally likely atoms of a gamma factor of mean 1 and SCV ``scv``: the means of its
    equal-probability slices, spread so that the mean and the SCV are exact (more slices when
    a heavy tail would need a negative atom; from 64 slices on, such atoms are clipped at 0 and
    the SCV comes out lower). Each atom costs time per request: an SCV of 3 takes 40.

    >>> noise_atoms(0.0)
    ((1.0, 1.0),)
    >>> for scv in (0.05, 1.0, 3.0):
    ...     atoms = noise_atoms(scv)
    ...     mean = sum(r * p for r, p in atoms)
    ...     var = sum((r - mean) ** 2 * p for r, p in atoms)
    ...     print(len(atoms), round(mean, 9), round(var, 9), min(r for r, _ in atoms) >= 0)
    5 1.0 0.05 True
    5 1.0 1.0 True
    40 1.0 3.0 True
    """
    if scv <= 0:
        return ((1.0, 1.0),)
    k = 1.0 / scv
    # E[X; X <= x] of a gamma of shape k and mean 1 is P(Y <= x), Y a gamma of shape k + 1
    while True:
        edges = [gamma_quantile(1.0, scv, i / points) for i in range(1, points)]
        below = [0.0, *(gamma_cdf((k + 1) / k, (k + 1) / k**2, e) for e in edges), 1.0]
        means = [(hi - lo) * points for lo, hi in pairwise(below)]
        total = sum(means) / points
        means = [m / total for m in means]
        var = sum((m - 1) ** 2 for m in means) / points
        if var <= 0:  # too narrow to tell apart: the noise is nothing
            return ((1.0, 1.0),)
        ratios = [1 + (m - 1) * math.sqrt(scv / var) for m in means]
        if min(ratios) >= 0:
            return tuple((r, 1.0 / points) for r in ratios)
        if points >= 64:  # a tail this heavy: clip at 0, keep the mean (the SCV comes out lower)
            clipped = [max(r, 0.0) for r in ratios]
            mean = sum(clipped) / points
            return tuple((r / mean, 1.0 / points) for r in clipped)
        points *= 2


@dataclass(frozen=True)
class TransientSojourns:
    """Per group of requests (an SLO window, or all): the request count, the summed mean
    sojourn (wait + service, no overhead) and the summed sojourn distribution on the grid
    (bin k: a sojourn in ((k - 1) step, k step])."""

    step_s: float
    count: np.ndarray  # (groups,)
    sojourn_sum_s: np.ndarray  # (groups,)
    hist: np.ndarray | None  # (groups, bins); None when only means were asked for
    held: float  # mass held at the grid's end: > 0 means the sojourns are lower bounds

    def mean_s(self, overhead_s: float) -> list[float]:
        """Mean sojourn plus ``overhead_s`` per group (0 for a group without requests)."""
        return [
            float(overhead_s + s / n) if n else 0.0
            for s, n in zip(self.sojourn_sum_s, self.count, strict=True)
        ]

    def quantile_s(self, q: float, overhead_s: float) -> list[float]:
        """The ``q`` quantile of the sojourn plus ``overhead_s`` per group (the middle of its
        grid step)."""
        if self.hist is None:
            raise ValueError("quantiles need the distribution: call with distribution=True")
        out = []
        for g, n in enumerate(self.count):
            if not n:
                out.append(0.0)
                continue
            cum = np.cumsum(self.hist[g])
            k = int(np.searchsorted(cum, q * cum[-1] * (1 - 1e-12)))
            out.append(float(overhead_s + max(k - 0.5, 0.0) * self.step_s))
        return out


def random_routing_sojourns(
    times_s: Sequence[float],
    service_s: Sequence[float],
    servers: int,
    noise: Sequence[tuple[float, float]],
    step_s: float,
    *,
    group_of: Sequence[int] | None = None,
    groups: int = 1,
    max_wait_s: float | None = None,
    distribution: bool = True,
) -> TransientSojourns:
    """The sojourn distribution of every request under random routing to ``servers`` FCFS
    servers (see the module docstring), summed per group.

    ``times_s`` ascending; ``service_s`` each request's mean service time; ``noise`` the
    engine's factor as atoms ``(ratio, probability)`` of mean 1 (:func:`noise_atoms`);
    ``group_of`` each request's group (default all in 0). A backlog beyond ``max_wait_s``
    (default: unbounded) is held there; the result is then a lower bound (``held`` > 0), and
    the distribution ends there too. ``distribution=False`` keeps only the means (faster).

    One server, arrivals 1 s apart, 0.5 s each: nobody waits. Two at once: the second of
    each pair waits 0.5 s. Two servers: the second waits half the time:

    >>> w = random_routing_sojourns([0.0, 1.0, 2.0], [0.5] * 3, 1, [(1.0, 1.0)], 0.01)
    >>> w.mean_s(0.0)
    [0.5]
    >>> pairs = [0.0, 0.0, 5.0, 5.0]
    >>> [round(random_routing_sojourns(pairs, [0.5] * 4, c, [(1.0, 1.0)], 0.01).mean_s(0.0)[0], 6)
    ...  for c in (1, 2)]
    [0.75, 0.625]
    >>> random_routing_sojourns(pairs, [0.5] * 4, 1, [(1.0, 1.0)], 0.01).quantile_s(0.9, 0.0)
    [0.995]
    """
    n = len(times_s)
    join = 1.0 / servers
    stay = 1.0 - join
    svc = [float(s) / step_s for s in service_s]  # in grid steps
    widest = max(r for r, _ in noise)
    longest = widest * max(svc, default=0.0)
    max_bins = math.inf if max_wait_s is None else int(max_wait_s / step_s + longest) + 2
    if n >= COMPILED_FROM and transient_kernel.available():  # the same steps, compiled
        count_a, sum_a, hist_a, held_a = transient_kernel.sojourns(
            np.asarray(times_s, dtype=float),
            np.asarray(svc),
            servers,
            np.array([r for r, _ in noise]),
            np.array([q for _, q in noise]),
            step_s,
            np.zeros(n, dtype=np.int64) if group_of is None else np.asarray(group_of, np.int64),
            groups,
            max_bins,
            distribution,
        )
        return TransientSojourns(step_s, count_a, sum_a, hist_a, held_a)
    cap = 1 << 12
    buf = np.zeros(cap)  # the free time's distribution is buf[o : o + top]; bin 0 "free now"
    buf[0] = 1.0
    o = 0
    scratch = np.zeros(cap)
    hist = (
        np.zeros((groups, cap if math.isinf(max_bins) else int(max_bins))) if distribution else None
    )
    count = [0] * groups  # Python numbers: a numpy element update costs more than the sum
    sojourn_sum = [0.0] * groups
    held = 0.0
    weights = np.arange(cap, dtype=float)
    top = 1  # bins in use
    base = 0  # absolute grid index of bin 0
    t0 = times_s[0] if n else 0.0
    for i in range(n):
        x = (times_s[i] - t0) / step_s
        b = int(x)
        if b > base:  # time passes: work is done, free times before now collapse to "free"
            d = min(b - base, top - 1)
            if d:
                head = buf[o : o + d + 1].sum()
                buf[o : o + d] = 0.0
                o += d
                buf[o] = head
                top -= d
            base = b
        f = x - b  # now is f bins past bin 0
        s_bins = svc[i]
        reach = top + int(widest * s_bins + f) + 2
        if o + reach > cap or reach > cap:  # move the live part to the front, grow if need be
            if reach * 2 > cap:
                cap = max(2 * cap, 2 * reach)
                scratch = np.zeros(cap)
                if hist is not None and math.isinf(max_bins):
                    hist = _longer(hist, cap)
                weights = np.arange(cap, dtype=float)
            live = buf[o : o + top].copy()
            buf = np.zeros(cap)
            buf[:top] = live
            o = 0
        p = buf[o : o + reach]
        # the free time after this request joins: each state moved by its service time, a
        # free server's (bin 0) by "now + service"
        head = float(p[0])
        p[0] = head * (1 - f)
        p[1] += head * f
        scratch[:reach] = 0.0
        for ratio, prob in noise:
            shift = ratio * s_bins
            j = int(shift)
            frac = shift - j
            scratch[j : j + top + 1] += (prob * (1 - frac)) * p[: top + 1]
            scratch[j + 1 : j + top + 2] += (prob * frac) * p[: top + 1]
        p[1] -= head * f
        p[0] = head
        # its sojourn is that free time less now (bin k: (k - f) steps)
        g = group_of[i] if group_of is not None else 0
        count[g] += 1
        sojourn_sum[g] += (float(scratch[:reach] @ weights[:reach]) - f) * step_s
        if hist is not None:
            width = hist.shape[1]
            if reach <= width:
                hist[g, :reach] += scratch[:reach]
            else:  # beyond the grid's end: held in its last bin
                hist[g] += scratch[:width]
                hist[g, width - 1] += scratch[width:reach].sum()
        p *= stay
        p += join * scratch[:reach]
        top = reach
        if top > max_bins:  # hold the backlog at the last bin
            last = int(max_bins)
            spill = float(p[last:top].sum())
            held += spill
            p[last - 1] += spill
            p[last:top] = 0.0
            top = last
        lowest = max(top - 64, 1)  # trim the tail's empty bins (the last 64 looked at)
        while top > lowest and p[top - 1] < _TINY:  # a few steps: cheaper than a vector op
            top -= 1
    return TransientSojourns(
        step_s=step_s,
        count=np.array(count, dtype=float),
        sojourn_sum_s=np.array(sojourn_sum),
        hist=hist,
        held=held,
    )


def _longer(a: np.ndarray, cap: int) -> np.ndarray:
    out = np.zeros((*a.shape[:-1], cap))
    out[..., : a.shape[-1]] = a
    return out
