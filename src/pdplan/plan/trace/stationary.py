"""The pointwise-stationary approximation of a trace (pooled prefill, random decode routing,
the paper's model, and the first guess of every search): per window a GI/G/c (or M/M/1)
sojourn with a fluid backlog carried from window to window, and the planning model's batch
rule for decode; the SLO statistic of the request-weighted mixture of windows. Pure."""

from __future__ import annotations

import math
from dataclasses import dataclass

from pdplan.engine.curves import MonotoneCurve
from pdplan.engine.variability import combine_scv
from pdplan.plan.trace.inputs import AnalyticInputs
from pdplan.plan.trace.windows import batch_wait_s
from pdplan.quantiles import STAT_QUANTILE
from pdplan.queueing.decode_batch import batch_tpot_atoms
from pdplan.queueing.sojourn import (
    ServiceShape,
    combine_shapes,
    gamma_cdf,
    gamma_shape,
    wait_distribution,
)

__all__ = [
    "Sojourn",
    "atoms_stat",
    "decode_atoms",
    "mixture_stat",
    "prefill_parts",
    "psa_stat",
    "windows_decode_stat",
]


@dataclass(frozen=True)
class Sojourn:
    """One window's TTFT: a shift (overhead + the backlog a window inherits), the service time
    (``service_s`` x the shape's atoms) and a wait (probability, conditional mean/variance)."""

    weight: float
    shift_s: float
    service_s: float
    shape: ServiceShape
    p_wait: float
    mean_c: float
    var_c: float

    @property
    def mean(self) -> float:
        return self.shift_s + self.service_s + self.p_wait * self.mean_c

    def cdf(self, t: float) -> float:
        total = 0.0
        for ratio, p in self.shape:
            left = t - self.shift_s - ratio * self.service_s
            if left < 0:
                continue
            waited = gamma_cdf(self.mean_c, self.var_c, left) if self.p_wait else 0.0
            total += p * ((1 - self.p_wait) + self.p_wait * waited)
        return total

    @property
    def upper(self) -> float:
        return (
            self.shift_s
            + self.service_s * max(r for r, _ in self.shape)
            + self.mean_c
            + 12 * math.sqrt(self.var_c)
        )


def mixture_stat(parts: list[Sojourn], stat: str) -> float:
    """The statistic of the request-weighted mixture of windows."""
    total = sum(p.weight for p in parts)
    if total <= 0:
        return 0.0
    if stat == "mean":
        return sum(p.weight * p.mean for p in parts) / total
    q = STAT_QUANTILE[stat]
    lo, hi = 0.0, max(p.upper for p in parts) + 1e-9
    for _ in range(50):
        mid = (lo + hi) / 2
        if sum(p.weight * p.cdf(mid) for p in parts) / total >= q:
            hi = mid
        else:
            lo = mid
    return hi


def atoms_stat(atoms: list[tuple[float, float]], stat: str) -> float:
    """The statistic of a discrete distribution ``(value, weight)``."""
    total = sum(w for _, w in atoms)
    if total <= 0:
        return 0.0
    if stat == "mean":
        return sum(v * w for v, w in atoms) / total
    target, acc = STAT_QUANTILE[stat] * total, 0.0
    for value, weight in sorted(atoms):
        acc += weight
        if acc >= target:
            return value
    return max(v for v, _ in atoms)


def prefill_parts(a: AnalyticInputs, m: int, pooled: bool) -> list[tuple[int, Sojourn]]:
    """Per window: (SLO group, TTFT distribution) with m prefill instances."""
    servers = m * a.dp
    backlog = 0.0  # fluid work per server, seconds
    parts = []
    engine = gamma_shape(1.0 if a.kind == "mm1" else a.engine_scv)
    for g, w in zip(a.group_of, a.windows, strict=True):
        s = w.service_s
        if a.kind == "mm1":
            scv, shape = 1.0, engine
        else:
            scv, shape = combine_scv(w.service_scv, a.engine_scv), combine_shapes(w.shape, engine)
        rho = w.rate_rps * s / servers
        if pooled:
            ca2, rate, c = a.arrival_scv, w.rate_rps, servers
        else:
            ca2, rate, c = 1 + (a.arrival_scv - 1) / servers, w.rate_rps / servers, 1
        # the wait a window can build from empty: at rho = 1, E[RBM] averaged over the window
        reach = (2 / 3) * math.sqrt(2 * (ca2 + scv) * s * w.length_s / math.pi) / c
        if rho < 1:
            p_wait, mean_c, var_c = wait_distribution(a.kind, rate, s, scv, c, ca2)  # type: ignore[arg-type]
            batched = (
                None
                if a.kind == "mm1"
                else batch_wait_s(w, servers, pooled, a.arrival_scv, a.engine_scv)
            )
            if batched is not None and p_wait * mean_c > 0:
                # only the first of its batch on a queue can find it idle: more wait, each
                # less; the same shape, scaled to the batch model's mean
                wait_s, batch = batched
                p_wait_b = 1 - (1 - p_wait) / max(batch, 1.0)
                factor = wait_s / p_wait_b / mean_c
                p_wait, mean_c, var_c = p_wait_b, mean_c * factor, var_c * factor**2
            stationary = p_wait * mean_c
            if stationary > reach > 0:  # a window too short to reach the steady state
                factor = reach / stationary
                mean_c, var_c = mean_c * factor, var_c * factor**2
        else:
            p_wait, mean_c, var_c = 1.0, reach, reach**2
        end = max(0.0, backlog + (rho - 1) * w.length_s)
        if rho >= 1 or backlog <= 0:
            avg = (backlog + end) / 2
        else:
            drain = backlog / (1 - rho)
            avg = (
                backlog - (1 - rho) * w.length_s / 2
                if drain >= w.length_s
                else backlog * drain / 2 / w.length_s
            )
        var_c += (end - backlog) ** 2 / 12  # the backlog's ramp across the window
        parts.append(
            (g, Sojourn(float(w.count), a.overhead_s + avg, s, shape, p_wait, mean_c, var_c))
        )
        backlog = end
    return parts


def decode_atoms(a: AnalyticInputs, n: int, random: bool) -> list[tuple[int, float, float]]:
    """Per window and outcome: (SLO group, TPOT s, weight) with n decode instances."""
    table = a.tpot_table
    cap = len(table)
    curve = MonotoneCurve.from_points([float(b) for b in range(1, cap + 1)], table)
    backlog = 0.0  # fluid requests waiting for a slot
    out: list[tuple[int, float, float]] = []
    for g, w in zip(a.group_of, a.windows, strict=True):
        osl = w.osl
        capacity_rps = n * cap / table[-1] / max(osl - 1, 1)  # all instances at the cap
        per_rps = w.rate_rps / n
        end = max(0.0, backlog + (w.rate_rps - capacity_rps) * w.length_s)
        wait_s = (backlog + end) / 2 / capacity_rps
        extra = wait_s / max(osl - 1, 1)
        atoms = None
        if a.fluctuate:
            if random:  # one of n single instances, fed a thinned stream
                atoms = batch_tpot_atoms(per_rps, table, osl, 1 + (a.dispersion - 1) / n)
            else:  # balanced across the pool
                atoms = batch_tpot_atoms(w.rate_rps, table, osl, a.dispersion, n)
        if atoms is None:  # held batch: b = rate (OSL - 1) TPOT(b), solved on [0, cap]
            lo, hi = 0.0, float(cap)
            if per_rps * (osl - 1) * table[-1] <= cap:
                for _ in range(50):
                    mid = (lo + hi) / 2
                    if per_rps * (osl - 1) * curve.at(max(mid, 1.0)).value > mid:
                        lo = mid
                    else:
                        hi = mid
            atoms = [(curve.at(max(hi, 1.0)).value, 1.0)]
        out.extend((g, tpot + extra, w.count * p) for tpot, p in atoms)
        backlog = end
    return out


def psa_stat(a: AnalyticInputs, m: int, stat: str, pooled: bool) -> dict[int, float]:
    """Per SLO window: the pointwise-stationary TTFT statistic with m instances."""
    parts = prefill_parts(a, m, pooled)
    return {
        g: mixture_stat([p for gg, p in parts if gg == g], stat) for g in sorted(set(a.group_of))
    }


def windows_decode_stat(a: AnalyticInputs, n: int, stat: str, random: bool) -> dict[int, float]:
    """Per SLO window: the pointwise-stationary TPOT statistic with n decode instances."""
    atoms = decode_atoms(a, n, random)
    return {
        g: atoms_stat([(t, w) for gg, t, w in atoms if gg == g], stat)
        for g in sorted(set(a.group_of))
    }
