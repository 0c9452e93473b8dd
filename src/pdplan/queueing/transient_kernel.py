"""The transient recursion of :mod:`pdplan.queueing.transient` compiled with numba (the
optional extra ``pdplan[fast]``): the same steps on the same grid, as loops over the live bins
instead of about twenty numpy calls per request. The numpy version stays the reference this
one is tested against (``tests/unit/test_transient_kernel.py``: equal within 1e-9); sums run
in a different order, so the last bits differ. Pure.

:func:`available` says whether numba imports; the kernel is compiled on first use (cached on
disk where the package's folder is writable).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["available", "sojourns"]

_TINY = 1e-13  # as pdplan.queueing.transient
_KERNEL: Any = None


def available() -> bool:
    """Whether numba can be imported (the ``fast`` extra is installed)."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def sojourns(
    times_s: np.ndarray,
    svc_bins: np.ndarray,
    servers: int,
    ratios: np.ndarray,
    probs: np.ndarray,
    step_s: float,
    group_of: np.ndarray,
    groups: int,
    max_bins: float,
    distribution: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, float]:
    """Per group: request count, summed sojourn (s), the summed sojourn histogram (None
    unless ``distribution``), and the mass held at the grid's end; the arguments are those of
    :func:`pdplan.queueing.transient.random_routing_sojourns`, as arrays (service in grid
    steps, ``max_bins`` inf when unbounded)."""
    global _KERNEL
    if _KERNEL is None:
        _KERNEL = _compile()
    hold = -1 if math.isinf(max_bins) else int(max_bins)
    count, total, hist, held = _KERNEL(
        times_s, svc_bins, float(servers), ratios, probs, step_s, group_of, groups, hold,
        distribution,
    )  # fmt: skip
    return count, total, hist if distribution else None, float(held)


def _compile() -> Any:
    import numba

    @numba.njit(cache=True)
    def kernel(
        times_s: np.ndarray,
        svc: np.ndarray,
        servers: float,
        ratios: np.ndarray,
        probs: np.ndarray,
        step_s: float,
        group_of: np.ndarray,
        groups: int,
        hold: int,
        distribution: bool,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        n = times_s.shape[0]
        join = 1.0 / servers
        stay = 1.0 - join
        widest = ratios.max()
        cap = 1 << 12
        buf = np.zeros(cap)
        buf[0] = 1.0
        o = 0
        scratch = np.zeros(cap)
        width = cap if hold < 0 else hold
        hist = np.zeros((groups if distribution else 1, width if distribution else 1))
        count = np.zeros(groups)
        total = np.zeros(groups)
        held = 0.0
        top = 1
        base = 0
        t0 = times_s[0] if n else 0.0
        for i in range(n):
            x = (times_s[i] - t0) / step_s
            b = int(x)
            if b > base:
                d = min(b - base, top - 1)
                if d:
                    head = 0.0
                    for k in range(o, o + d + 1):
                        head += buf[k]
                        buf[k] = 0.0
                    o += d
                    buf[o] = head
                    top -= d
                base = b
            f = x - b
            s_bins = svc[i]
            reach = top + int(widest * s_bins + f) + 2
            if o + reach > cap or reach > cap:
                if reach * 2 > cap:
                    cap = max(2 * cap, 2 * reach)
                    scratch = np.zeros(cap)
                    if distribution and hold < 0:
                        longer = np.zeros((groups, cap))
                        longer[:, : hist.shape[1]] = hist
                        hist = longer
                live = buf[o : o + top].copy()
                buf = np.zeros(cap)
                buf[:top] = live
                o = 0
            head = buf[o]
            buf[o] = head * (1 - f)
            buf[o + 1] += head * f
            for k in range(reach):
                scratch[k] = 0.0
            for a in range(ratios.shape[0]):
                shift = ratios[a] * s_bins
                j = int(shift)
                frac = shift - j
                lo_w = probs[a] * (1 - frac)
                hi_w = probs[a] * frac
                for k in range(top + 1):
                    scratch[j + k] += lo_w * buf[o + k]
                for k in range(top + 1):
                    scratch[j + 1 + k] += hi_w * buf[o + k]
            buf[o + 1] -= head * f
            buf[o] = head
            g = group_of[i]
            count[g] += 1
            mean_bins = 0.0
            for k in range(reach):
                mean_bins += scratch[k] * k
            total[g] += (mean_bins - f) * step_s
            if distribution:
                w = hist.shape[1]
                if reach <= w:
                    for k in range(reach):
                        hist[g, k] += scratch[k]
                else:
                    for k in range(w):
                        hist[g, k] += scratch[k]
                    beyond = 0.0
                    for k in range(w, reach):
                        beyond += scratch[k]
                    hist[g, w - 1] += beyond
            for k in range(reach):
                buf[o + k] = buf[o + k] * stay + join * scratch[k]
            top = reach
            if hold >= 0 and top > hold:
                spill = 0.0
                for k in range(hold, top):
                    spill += buf[o + k]
                    buf[o + k] = 0.0
                held += spill
                buf[o + hold - 1] += spill
                top = hold
            lowest = max(top - 64, 1)
            while top > lowest and buf[o + top - 1] < 1e-13:
                top -= 1
        return count, total, hist, held

    return kernel
