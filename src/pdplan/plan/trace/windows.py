"""A trace replay cut into pointwise-stationary windows: each window's arrivals, their own
lengths and their batches, and the wait of requests that arrive in batches. Pure."""

from __future__ import annotations

import math
from dataclasses import dataclass

from pdplan.engine.variability import combine_scv
from pdplan.queueing.gg1 import allen_cunneen_wait_moments_s, kingman_wait_moments_s
from pdplan.queueing.sojourn import ServiceShape, shape_of

__all__ = ["Window", "batch_wait_s", "psa_windows"]


@dataclass(frozen=True)
class Window:
    """One pointwise-stationary window: its arrivals and their own lengths (the mix of
    lengths moves with the rate: in the Azure trace the busiest minutes have the shortest
    outputs, so work, not requests, must be counted per window)."""

    count: int
    length_s: float
    service_s: float  # mean prefill service time of its requests
    service_scv: float  # their spread
    shape: ServiceShape  # their distribution relative to the mean
    osl: float  # their mean output length
    batch_x1: float = 1.0  # requests arriving at one instant (a trace's batches): mean
    batch_x2: float = 1.0  # and second moment

    @property
    def rate_rps(self) -> float:
        return self.count / self.length_s


def psa_windows(
    times: list[float], service_s: list[float], osl: tuple[int, ...], window_s: float
) -> list[Window]:
    """Cut the replay (arrival ``times``, each request's prefill ``service_s`` and output
    length) into windows of ``window_s``; the last one is as long as what remains.

    >>> ws = psa_windows([0.0, 0.5, 1.0, 1.5, 2.0, 2.5], [0.1] * 6, (10,) * 6, 1.0)
    >>> [(w.count, w.length_s, w.rate_rps) for w in ws]
    [(2, 1.0, 2.0), (2, 1.0, 2.0), (2, 0.5, 4.0)]
    """
    span = times[-1] - times[0]
    full = max(1, math.ceil(span / window_s)) if span > 0 else 1
    members: list[list[int]] = [[] for _ in range(full)]
    for i, t in enumerate(times):
        members[min(int((t - times[0]) // window_s), full - 1)].append(i)
    last = span - (full - 1) * window_s
    lengths = [window_s] * (full - 1) + [max(last, window_s * 0.05)]
    mean_s = sum(service_s) / len(service_s)
    out = []
    for idx, length in zip(members, lengths, strict=True):
        if not idx:
            out.append(Window(0, length, mean_s, 0.0, ((1.0, 1.0),), sum(osl) / len(osl)))
            continue
        s = [service_s[i] for i in idx]
        m1 = sum(s) / len(s)
        m2 = sum(v * v for v in s) / len(s)
        mean_osl = sum(osl[i] for i in idx) / len(idx)
        scv = max(m2 / m1**2 - 1, 0.0)
        sizes: dict[float, int] = {}
        for i in idx:
            sizes[times[i]] = sizes.get(times[i], 0) + 1
        x1 = sum(sizes.values()) / len(sizes)
        x2 = sum(x * x for x in sizes.values()) / len(sizes)
        out.append(Window(len(idx), length, m1, scv, shape_of(s, 24), mean_osl, x1, x2))
    return out


def batch_wait_s(
    w: Window, servers: int, pooled: bool, batch_scv: float, engine_scv: float
) -> tuple[float, float] | None:
    """Mean wait when requests arrive in batches at one instant (GI^X/G/1 per server after
    random routing, or the pool): the batch's own wait (Kingman on batches) plus the
    batch-mates served first; and the mean batch a queue receives. None when every batch is
    one request (plain GI/G/1).

    Pairs arriving as Poisson at 0.5 pairs/s, 0.5 s each, deterministic: Pollaczek-Khinchine
    on the pairs (1 s, rho 0.5) gives 0.5 s, and the second of a pair waits 0.5 s more
    (0.25 s on average):

    >>> w = Window(100, 100.0, 0.5, 0.0, ((1.0, 1.0),), 10.0, batch_x1=2.0, batch_x2=4.0)
    >>> batch_wait_s(w, 1, False, 1.0, 0.0)
    (0.75, 2.0)
    """
    if w.batch_x2 <= w.batch_x1 * (1 + 1e-12) or w.count == 0:
        return None
    s, x1, x2 = w.service_s, w.batch_x1, w.batch_x2
    var_s = combine_scv(w.service_scv, engine_scv) * s * s
    rate_batches = w.count / x1 / w.length_s
    if pooled:
        rho = w.rate_rps * s / servers
        if rho >= 1:
            return None
        ex, ex2, keep, c = x1, x2, 1.0, servers
    else:
        # each request picks one of c queues: per queue, batches of Binomial(X, 1/c) >= 1
        c = servers
        rho = w.rate_rps * s / c
        if rho >= 1:
            return None
        keep = 1 - (1 - 1 / c) ** x1  # P(a batch reaches this queue), at the mean size
        ex = x1 / c / keep
        ex2 = (x2 / c**2 + x1 / c * (1 - 1 / c)) / keep
    mean_b = ex * s
    var_b = ex * var_s + max(ex2 - ex * ex, 0.0) * s * s
    scv_b = var_b / mean_b**2
    if pooled:
        between = allen_cunneen_wait_moments_s(rate_batches, mean_b, c, scv_b, batch_scv)[0]
        within = s * (ex2 - ex) / (2 * ex) / c
    else:
        thinned = 1 + (batch_scv - 1) * keep
        between = kingman_wait_moments_s(rate_batches * keep, mean_b, scv_b, thinned)[0]
        within = s * (ex2 - ex) / (2 * ex)
    return between + within, ex
