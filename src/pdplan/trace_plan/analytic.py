"""The burst-aware analytic answer for a trace (see :mod:`pdplan.trace_plan`).

Prefill under random routing (the default): the transient Lindley recursion of one server's
wait over the trace's own arrivals and lengths (:mod:`pdplan.queueing.transient`). Decode
under least-loaded routing (the default): the balanced pool as a fluid over the same trace
(:mod:`pdplan.queueing.decode_fluid`). Otherwise (pooled prefill, random decode routing, the
paper's model), the pointwise-stationary approximation: per window a GI/G/c (or M/M/1) sojourn
with a fluid backlog, and the planning model's batch rule; it is also the first guess of the
searches above. The SLO statistic is taken over all requests (or per SLO window). Pure."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pdplan.capacity.pool import smallest
from pdplan.curves import MonotoneCurve
from pdplan.errors import InfeasibleSLOError
from pdplan.quantiles import STAT_QUANTILE, Distribution
from pdplan.queueing.decode_batch import batch_tpot_atoms
from pdplan.queueing.decode_fluid import balanced_decode_tpots_s
from pdplan.queueing.sojourn import (
    ServiceShape,
    combine_shapes,
    gamma_cdf,
    gamma_shape,
    wait_distribution,
)
from pdplan.queueing.transient import noise_atoms, random_routing_sojourns
from pdplan.schema.plan import DecodeRouting, Model, PrefillRouting
from pdplan.schema.profile import Profile
from pdplan.schema.workload import SLO, Workload
from pdplan.service_time import prefill_service, prefill_time_s
from pdplan.sim.config import MAX_SIM_INSTANCES
from pdplan.trace_plan.windows import Window, batch_wait_s, psa_windows
from pdplan.traffic import local_arrival_scv, local_dispersion
from pdplan.units import ms_to_s
from pdplan.variability import combine_scv, engine_scv

__all__ = ["PSA_WINDOW_S", "AnalyticAllocation", "analytic_allocation"]

#: Longest pointwise-stationary window, seconds of the replay (shorter for short replays).
PSA_WINDOW_S = 60.0


class AnalyticAllocation(BaseModel):
    """The burst-aware analytic answer and what it predicts."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    allocation: str
    prefill_instances: int
    decode_instances: int
    gpus: int | None
    predicted_ttft_s: float = Field(description="the SLO's TTFT statistic over the replay")
    predicted_tpot_s: float | None = Field(
        description="the SLO's TPOT statistic over the replay (None: no request has two tokens)"
    )
    prefill_method: Literal["transient", "windows"] = Field(
        description="transient: each server's wait distribution followed over the trace's own "
        "arrivals (random routing); windows: a stationary GI/G/c queue per window (pooled "
        "routing, or the paper's model)"
    )
    decode_method: Literal["fluid", "windows"] = Field(
        description="fluid: the balanced pool followed over the trace's own arrivals "
        "(least-loaded routing); windows: the planning model's batch rule per window"
    )
    window_s: float = Field(description="pointwise-stationary window, seconds")
    local_arrival_scv: float = Field(description="inter-arrival SCV inside windows")
    decode_dispersion: float = Field(description="index of dispersion at the decode time scale")


@dataclass(frozen=True)
class _Sojourn:
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


def _mixture_stat(parts: list[_Sojourn], stat: str) -> float:
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


def _atoms_stat(atoms: list[tuple[float, float]], stat: str) -> float:
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


@dataclass(frozen=True)
class _Analytic:
    """What the analytic model needs, computed once per trace."""

    windows: list[Window]
    group_of: list[int]  # SLO window of each PSA window
    window_s: float
    engine_scv: float  # the engine's part of the service SCV (1 and exponential: paper)
    arrival_scv: float
    dispersion: float
    overhead_s: float
    dp: int
    kind: str
    tpot_table: list[float]
    fluctuate: bool  # queueing/auto: the batch fluctuates (pdplan.queueing.decode_batch)
    times_s: list[float]  # the replay's arrivals
    osl_tokens: tuple[int, ...]  # each request's output length
    service_s: list[float]  # each request's mean prefill time (its uncached tokens)
    noise: tuple[tuple[float, float], ...]  # the engine's prefill noise as atoms
    decode_start_s: list[float]  # when each request's decode starts (its own prefill done)
    slo_group: list[int]  # each request's SLO window (all 0 without one)


def _prefill_parts(a: _Analytic, m: int, pooled: bool) -> list[tuple[int, _Sojourn]]:
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
            (g, _Sojourn(float(w.count), a.overhead_s + avg, s, shape, p_wait, mean_c, var_c))
        )
        backlog = end
    return parts


def _decode_atoms(a: _Analytic, n: int, random: bool) -> list[tuple[int, float, float]]:
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


def _groups_ok(values: dict[int, float], limit: float) -> bool:
    return all(v <= limit * (1 + 1e-9) for v in values.values())


#: The transient recursion's grid: this share of the TTFT objective (a quantile is read to
#: half a step).
_GRID_SHARE = 1 / 128
#: A server's backlog beyond this many TTFT objectives is held there (a lower bound); a
#: count whose replay holds more than :data:`_HELD_MAX` of a request's probability there fails.
_HOLD_AT = 20.0
_HELD_MAX = 1e-3


def _transient_stat(a: _Analytic, m: int, stat: str, limit_s: float) -> dict[int, float]:
    """Per SLO window: the TTFT statistic under random routing to m instances, exact up to
    the grid (:mod:`pdplan.queueing.transient`)."""
    groups = max(a.slo_group) + 1
    got = random_routing_sojourns(
        a.times_s,
        a.service_s,
        m * a.dp,
        a.noise,
        limit_s * _GRID_SHARE,
        group_of=a.slo_group if groups > 1 else None,
        groups=groups,
        max_wait_s=limit_s * _HOLD_AT,
        distribution=stat != "mean",
    )
    if stat == "mean":
        values = got.mean_s(a.overhead_s)
    else:
        values = got.quantile_s(STAT_QUANTILE[stat], a.overhead_s)
    if got.held > _HELD_MAX:  # a lower bound only: the backlog ran past the grid
        values = [math.inf for _ in values]
    return {g: v for g, v in enumerate(values) if got.count[g]}


def _psa_stat(a: _Analytic, m: int, stat: str, pooled: bool) -> dict[int, float]:
    """Per SLO window: the pointwise-stationary TTFT statistic with m instances."""
    parts = _prefill_parts(a, m, pooled)
    return {
        g: _mixture_stat([p for gg, p in parts if gg == g], stat) for g in sorted(set(a.group_of))
    }


def _transient(pooled: bool, a: _Analytic) -> bool:
    """Random routing under a burst-aware model: the transient recursion applies."""
    return not pooled and a.kind != "mm1"


def _prefill_stat(
    a: _Analytic, m: int, stat: str, pooled: bool, limit_s: float
) -> dict[int, float]:
    """Per SLO window: the TTFT statistic with m prefill instances."""
    if _transient(pooled, a):
        return _transient_stat(a, m, stat, limit_s)
    return _psa_stat(a, m, stat, pooled)


def _fluid_stat(a: _Analytic, n: int, stat: str) -> dict[int, float]:
    """Per SLO window: the TPOT statistic of the balanced decode pool followed over the trace
    (:mod:`pdplan.queueing.decode_fluid`); decode starts when the prompt's own prefill ends."""
    tpots = balanced_decode_tpots_s(a.decode_start_s, a.osl_tokens, n, a.tpot_table)
    by_group: dict[int, list[float | None]] = {}
    for g, t in zip(a.slo_group, tpots, strict=True):
        by_group.setdefault(g, []).append(t)
    out = {}
    for g, values in by_group.items():
        dist = Distribution.of(values)
        if dist is not None:
            out[g] = dist.stat(stat)  # type: ignore[arg-type]
    return out


def _fluid(random: bool, a: _Analytic) -> bool:
    """Least-loaded decode under a burst-aware model: the balanced fluid applies."""
    return not random and a.fluctuate


def _decode_stat(a: _Analytic, n: int, stat: str, random: bool) -> dict[int, float]:
    """Per SLO window: the TPOT statistic with n decode instances (none when no request has
    a second token)."""
    if max(a.osl_tokens) < 2:
        return {}
    if _fluid(random, a):
        return _fluid_stat(a, n, stat)
    return _windows_decode_stat(a, n, stat, random)


def _windows_decode_stat(a: _Analytic, n: int, stat: str, random: bool) -> dict[int, float]:
    """Per SLO window: the pointwise-stationary TPOT statistic with n decode instances."""
    atoms = _decode_atoms(a, n, random)
    return {
        g: _atoms_stat([(t, w) for gg, t, w in atoms if gg == g], stat)
        for g in sorted(set(a.group_of))
    }


def _smallest_count(
    stat_of: Callable[[int], dict[int, float]],
    limit_s: float,
    guess_of: Callable[[int], dict[int, float]] | None,
) -> tuple[int | None, dict[int, dict[int, float]]]:
    """The smallest count whose statistic (per SLO window) meets ``limit_s``, searched from
    the answer of the cheaper ``guess_of`` when given; and every statistic computed."""
    start = 1
    if guess_of is not None:
        start = smallest(lambda k: _groups_ok(guess_of(k), limit_s), 1, MAX_SIM_INSTANCES) or 1
    seen: dict[int, dict[int, float]] = {}

    def ok(k: int) -> bool:
        if k not in seen:
            seen[k] = stat_of(k)
        return _groups_ok(seen[k], limit_s)

    return smallest(ok, start, MAX_SIM_INSTANCES), seen


def _analytic_inputs(
    profile: Profile,
    workload: Workload,
    slo: SLO,
    model: Model,
    window_s: float,
    slo_window_s: float | None,
) -> _Analytic:
    assert workload.trace is not None and workload.time_scale is not None
    trace = workload.trace
    times = trace.replay_times_s(workload.time_scale)
    # windows of at most window_s, and at least 30 over the replay: a trace replayed much
    # faster moves its rate within seconds, and a window must follow it
    psa = min(window_s, max(trace.span_s / workload.time_scale / 30, 1e-3))
    if slo_window_s:
        psa = min(psa, slo_window_s)
    keep = 1 - workload.prefix_hit_rate
    cache: dict[int, float] = {}
    for isl in set(trace.isl_tokens):
        cache[isl] = prefill_time_s(profile.prefill, isl * keep)
    service = [cache[i] for i in trace.isl_tokens]
    windows = psa_windows(times, service, trace.osl_tokens, psa)
    group_of = [int(k * psa // slo_window_s) if slo_window_s else 0 for k in range(len(windows))]
    lengths = prefill_service(profile.prefill, workload.isl, workload.prefix_hit_rate)
    engine, _ = engine_scv(profile.prefill, model, lengths.scv)
    paper = model == "paper"
    curve = profile.decode.curve_for(workload.isl_tokens, workload.osl_tokens)
    points = [
        getattr(p, f"tpot_{slo.tpot_stat}_ms", None) if slo.tpot_stat != "mean" else p.tpot_ms
        for p in curve.points
    ]
    if any(v is None for v in points):
        points = [p.tpot_ms for p in curve.points]
    monotone = MonotoneCurve.from_points(
        [float(p.batch) for p in curve.points],
        [ms_to_s(v) for v in points],  # type: ignore[arg-type]
    )
    cap = curve.points[-1].batch
    if profile.decode.kv_capacity_tokens is not None:
        cap = min(
            cap, max(1, int(profile.decode.kv_capacity_tokens // workload.tokens_per_request))
        )
    duration_s = max(workload.osl_tokens - 1, 1) * slo.tpot_s
    return _Analytic(
        windows=windows,
        group_of=group_of,
        window_s=psa,
        engine_scv=engine,
        # arrivals at one instant are one batch (the Mooncake trace arrives on a 3 s grid)
        arrival_scv=1.0 if paper else local_arrival_scv(sorted(set(times)), psa),
        dispersion=1.0 if paper else local_dispersion(times, duration_s, psa),
        overhead_s=profile.prefill.overhead_s,
        dp=profile.prefill.dp_groups,
        kind="mm1" if paper else "mg1",
        tpot_table=[monotone.at(b).value for b in range(1, cap + 1)],
        fluctuate=not paper,
        times_s=times,
        osl_tokens=trace.osl_tokens,
        service_s=service,
        noise=noise_atoms(engine),
        decode_start_s=[
            t + profile.prefill.overhead_s + sv for t, sv in zip(times, service, strict=True)
        ],
        slo_group=[int((t - times[0]) // slo_window_s) for t in times]
        if slo_window_s
        else [0] * len(times),
    )


def analytic_allocation(
    profile: Profile,
    workload: Workload,
    slo: SLO,
    *,
    model: Model = "auto",
    prefill_routing: PrefillRouting = "random",
    decode_routing: DecodeRouting = "least_loaded",
    window_s: float = PSA_WINDOW_S,
    slo_window_s: float | None = None,
    gpus: Callable[[int, int], int | None] = lambda m, n: None,
) -> AnalyticAllocation:
    """The burst-aware analytic answer for a trace workload (see the module docstring).

    :raises InfeasibleSLOError: when no count up to the simulator's limit meets an objective

    >>> import random
    >>> from pdplan import SLO, Workload, default_profile
    >>> from pdplan.schema.trace import Trace
    >>> rng = random.Random(1)
    >>> times = sorted(rng.uniform(0, 600) for _ in range(600))
    >>> w = Workload.from_trace(Trace(tuple(times), (6144,) * 600, (512,) * 600), time_scale=10)
    >>> a = analytic_allocation(default_profile(), w, SLO(ttft_s=2, tpot_s=0.02), model="paper")
    >>> a.allocation, round(a.predicted_ttft_s, 3)
    ('3P4D', 0.762)
    >>> b = analytic_allocation(default_profile(), w, SLO(ttft_s=2, tpot_s=0.02))  # auto
    >>> b.allocation, b.prefill_method, b.decode_method, round(b.predicted_ttft_s, 3)
    ('3P3D', 'transient', 'fluid', 0.819)
    """
    a = _analytic_inputs(profile, workload, slo, model, window_s, slo_window_s)
    pooled, random = prefill_routing == "pooled", decode_routing == "random"
    m, ttft = _smallest_count(
        lambda k: _prefill_stat(a, k, slo.ttft_stat, pooled, slo.ttft_s),
        slo.ttft_s,
        (lambda k: _psa_stat(a, k, slo.ttft_stat, pooled)) if _transient(pooled, a) else None,
    )
    n, tpot = _smallest_count(
        lambda k: _decode_stat(a, k, slo.tpot_stat, random),
        slo.tpot_s,
        (lambda k: _windows_decode_stat(a, k, slo.tpot_stat, random))
        if _fluid(random, a)
        else None,
    )
    if m is None or n is None:
        phase = "prefill" if m is None else "decode"
        raise InfeasibleSLOError(
            f"the analytic model finds no {phase} count up to {MAX_SIM_INSTANCES} that meets "
            f"the {'TTFT' if m is None else 'TPOT'} SLO on this trace",
            field="ttft" if m is None else "tpot",
            achievable=0.0,
        )
    return AnalyticAllocation(
        allocation=f"{m}P{n}D",
        prefill_instances=m,
        decode_instances=n,
        gpus=gpus(m, n),
        predicted_ttft_s=max(ttft[m].values()),
        predicted_tpot_s=max(tpot[n].values(), default=None),
        prefill_method="transient" if _transient(pooled, a) else "windows",
        decode_method="fluid" if _fluid(random, a) else "windows",
        window_s=a.window_s,
        local_arrival_scv=a.arrival_scv,
        decode_dispersion=a.dispersion,
    )
