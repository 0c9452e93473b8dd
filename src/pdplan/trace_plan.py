"""Plan for a trace: the smallest allocation whose replay of the trace meets the SLOs.

Two answers, and the gap between them:

- **Analytic** (burst-aware): the pointwise-stationary approximation. The replay is cut into
  windows (60 s, or the SLO window when shorter); each window is a stationary queue at its own
  rate, with the burstiness that remains inside windows (the inter-arrival SCV of gaps scaled
  by their window's rate; for decode, the index of dispersion of counts at the time scale of a
  request's decode). Prefill: GI/G/1 per DP group (Kingman) or GI/G/c pooled (Allen-Cunneen),
  the planning model's service variability, the wait within a window bounded by what a queue
  at the edge of stability builds in that time (a reflected Brownian motion's mean), and a
  fluid backlog that an overloaded window leaves to the next. Decode: the planning model's
  batch rule per window (held batch, or the fluctuating batch on one instance or under random
  routing), with a fluid backlog of requests waiting for a slot. The SLO statistic is taken
  over the request-weighted mixture of the windows (or per SLO window).
- **Simulation-checked** (the recommendation): starting from the analytic answer, replay the
  trace through the simulator (:mod:`pdplan.sim`) with the same routing and service
  variability, and search for the smallest prefill count meeting the TTFT objective, then the
  smallest decode count meeting the TPOT objective (TTFT does not depend on decode in the
  simulator; decode sees the prefill's output). Every allocation tried is kept, so that a user
  can re-run any of them with ``pdplan simulate --trace`` and get the same numbers.

Pure (planner + simulator); ``on_probe`` lets a caller show progress.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from pdplan.curves import MonotoneCurve
from pdplan.errors import ConfigError, InfeasibleSLOError
from pdplan.planner import size
from pdplan.quantiles import STAT_QUANTILE, Distribution
from pdplan.queueing.decode_batch import batch_tpot_atoms
from pdplan.queueing.gg1 import allen_cunneen_wait_moments_s, kingman_wait_moments_s
from pdplan.queueing.sojourn import (
    ServiceShape,
    combine_shapes,
    gamma_cdf,
    gamma_shape,
    shape_of,
    wait_distribution,
)
from pdplan.schema.arrivals import Poisson
from pdplan.schema.plan import DecodeRouting, Model, Plan, PrefillRouting
from pdplan.schema.profile import Profile
from pdplan.schema.workload import SLO, Workload
from pdplan.service_time import prefill_service, prefill_time_s
from pdplan.sim.cluster import simulate
from pdplan.sim.config import MAX_SIM_INSTANCES, SimConfig
from pdplan.sim.metrics import Columns, SimResult
from pdplan.traffic import TraceSummary, local_arrival_scv, local_dispersion, summarize_trace
from pdplan.units import ms_to_s
from pdplan.variability import combine_scv, engine_scv
from pdplan.verdict import Verdict, judge
from pdplan.verify import cluster_for

__all__ = [
    "PSA_WINDOW_S",
    "AnalyticAllocation",
    "ReplayResult",
    "TracePlan",
    "analytic_allocation",
    "plan_trace",
    "replay",
]

#: Longest pointwise-stationary window, seconds of the replay (shorter for short replays).
PSA_WINDOW_S = 60.0
OnProbe = Callable[[str], None]


class WindowVerdict(BaseModel):
    """The worst SLO window of a replay (``--slo-window``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    windows: int = Field(description="SLO windows with requests")
    failed: int = Field(description="windows whose statistic misses an objective")
    worst_ttft_s: float | None = Field(description="the worst window's TTFT statistic")
    worst_tpot_s: float | None = Field(description="the worst window's TPOT statistic")


class ReplayResult(BaseModel):
    """One allocation's replay of the trace."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    allocation: str
    prefill_instances: int
    decode_instances: int
    gpus: int | None
    requests: int
    ttft_s: Distribution | None
    tpot_s: Distribution | None
    slo_attainment: float | None = Field(description="share of requests meeting both SLOs")
    ttft_met: bool
    tpot_met: bool
    meets_slo: bool
    windows: WindowVerdict | None = Field(description="per SLO window, with --slo-window")


class AnalyticAllocation(BaseModel):
    """The burst-aware analytic answer and what it predicts."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    allocation: str
    prefill_instances: int
    decode_instances: int
    gpus: int | None
    predicted_ttft_s: float = Field(description="the SLO's TTFT statistic over the replay")
    predicted_tpot_s: float = Field(description="the SLO's TPOT statistic over the replay")
    window_s: float = Field(description="pointwise-stationary window, seconds")
    local_arrival_scv: float = Field(description="inter-arrival SCV inside windows")
    decode_dispersion: float = Field(description="index of dispersion at the decode time scale")


class TracePlan(BaseModel):
    """The answer of ``pdplan size --trace``."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)
    model: Model
    workload: Workload
    slo: SLO
    slo_window_s: float | None
    trace: TraceSummary
    allocation: ReplayResult = Field(description="the recommendation, checked by replay")
    analytic_allocation: AnalyticAllocation
    mean_rate_allocation: ReplayResult = Field(
        description="what planning on the mean rate (Poisson) buys, replayed"
    )
    mean_rate_plan: Plan = Field(exclude=True)
    searched: list[ReplayResult] = Field(description="every allocation replayed, in order")
    warnings: list[str]

    @property
    def replay(self) -> ReplayResult:
        return self.allocation


def _gpus(plan: Plan, m: int, n: int) -> int | None:
    p, d = plan.prefill.gpus_per_instance, plan.decode.gpus_per_instance
    return None if p is None or d is None else m * p + n * d


# -- replays --------------------------------------------------------------------------------


def _windows_verdict(
    columns: Columns, slo: SLO, window_s: float
) -> tuple[WindowVerdict, bool, bool]:
    groups: dict[int, list[int]] = {}
    t0 = columns.arrival_s[0]
    for i, t in enumerate(columns.arrival_s):
        groups.setdefault(int((t - t0) // window_s), []).append(i)
    failed = 0
    worst_ttft = worst_tpot = None
    ttft_ok = tpot_ok = True
    for members in groups.values():
        v = judge(
            Distribution.of(columns.ttft_s(i) for i in members),
            Distribution.of(columns.tpot_s(i) for i in members),
            slo,
        )
        failed += not v.meets
        ttft_ok &= v.ttft_met
        tpot_ok &= v.tpot_met
        if v.ttft_s is not None:
            worst_ttft = max(worst_ttft or 0.0, v.ttft_s)
        if v.tpot_s is not None:
            worst_tpot = max(worst_tpot or 0.0, v.tpot_s)
    return (
        WindowVerdict(
            windows=len(groups), failed=failed, worst_ttft_s=worst_ttft, worst_tpot_s=worst_tpot
        ),
        ttft_ok,
        tpot_ok,
    )


def replay(
    profile: Profile,
    plan: Plan,
    m: int,
    n: int,
    *,
    slo_window_s: float | None = None,
    seed: int = 42,
) -> ReplayResult:
    """Replay the plan's workload on mPnD with the plan's routing and service variability.

    The same run as ``pdplan simulate --trace ... --prefill m --decode n`` with the defaults.
    """
    assert plan.slo is not None
    config = SimConfig(cluster=cluster_for(plan, m, n), workload=plan.workload, seed=seed)
    result: SimResult = simulate(profile, config, plan.slo, keep_records=slo_window_s is not None)
    verdict: Verdict | None = result.verdict
    assert verdict is not None
    ttft_met, tpot_met = verdict.ttft_met, verdict.tpot_met
    windows = None
    if slo_window_s is not None:
        assert result.records is not None
        windows, w_ttft, w_tpot = _windows_verdict(result.records, plan.slo, slo_window_s)
        ttft_met, tpot_met = ttft_met and w_ttft, tpot_met and w_tpot
    return ReplayResult(
        allocation=f"{m}P{n}D",
        prefill_instances=m,
        decode_instances=n,
        gpus=_gpus(plan, m, n),
        requests=result.requests_measured,
        ttft_s=result.ttft_s,
        tpot_s=result.tpot_s,
        slo_attainment=result.slo_attainment,
        ttft_met=ttft_met,
        tpot_met=tpot_met,
        meets_slo=ttft_met and tpot_met,
        windows=windows,
    )


def _smallest(ok: Callable[[int], bool], start: int, limit: int) -> int | None:
    """The smallest k in 1..limit with ok(k), assuming ok is monotone; galloping from start."""
    start = min(max(start, 1), limit)
    if ok(start):
        lo, hi, step = start, start, 1  # ok(hi); find the failing lower end
        while hi - step >= 1 and ok(hi - step):
            hi -= step
            step *= 2
        lo = max(hi - step, 0)  # ok(lo) is False (or lo == 0)
    else:
        lo, step = start, 1  # not ok(lo)
        hi = min(start + step, limit)
        while not ok(hi):
            if hi == limit:
                return None
            lo, step = hi, step * 2
            hi = min(start + step, limit)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


def _smallest_checked(ok: Callable[[int], bool], start: int, limit: int) -> int | None:
    """:func:`_smallest`, then the few counts just below it too: a replay's statistic is not
    exactly monotone in the instance count (requests land on other instances), and a count
    a little below the search's answer may still meet the objective."""
    found = _smallest(ok, start, limit)
    if found is None:
        return None
    below = [k for k in range(found - max(2, math.ceil(0.05 * found)), found) if k >= 1]
    return min([k for k in below if ok(k)], default=found)


# -- the analytic model ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Window:
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


def _psa_windows(
    times: list[float], service_s: list[float], osl: tuple[int, ...], window_s: float
) -> list[_Window]:
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
            out.append(_Window(0, length, mean_s, 0.0, ((1.0, 1.0),), sum(osl) / len(osl)))
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
        out.append(_Window(len(idx), length, m1, scv, shape_of(s, 24), mean_osl, x1, x2))
    return out


def _batch_wait_s(
    w: _Window, servers: int, pooled: bool, batch_scv: float, engine_scv: float
) -> tuple[float, float] | None:
    """Mean wait when requests arrive in batches at one instant (GI^X/G/1 per server after
    random routing, or the pool): the batch's own wait (Kingman on batches) plus the
    batch-mates served first; and the mean batch a queue receives. None when every batch is
    one request (plain GI/G/1)."""
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

    windows: list[_Window]
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
                else _batch_wait_s(w, servers, pooled, a.arrival_scv, a.engine_scv)
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


def _prefill_stat(a: _Analytic, m: int, stat: str, pooled: bool) -> dict[int, float]:
    parts = _prefill_parts(a, m, pooled)
    return {
        g: _mixture_stat([p for gg, p in parts if gg == g], stat) for g in sorted(set(a.group_of))
    }


def _decode_stat(a: _Analytic, n: int, stat: str, random: bool) -> dict[int, float]:
    atoms = _decode_atoms(a, n, random)
    return {
        g: _atoms_stat([(t, w) for gg, t, w in atoms if gg == g], stat)
        for g in sorted(set(a.group_of))
    }


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
    windows = _psa_windows(times, [cache[i] for i in trace.isl_tokens], trace.osl_tokens, psa)
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
    """
    a = _analytic_inputs(profile, workload, slo, model, window_s, slo_window_s)
    pooled, random = prefill_routing == "pooled", decode_routing == "random"
    m = _smallest(
        lambda k: _groups_ok(_prefill_stat(a, k, slo.ttft_stat, pooled), slo.ttft_s),
        1,
        MAX_SIM_INSTANCES,
    )
    n = _smallest(
        lambda k: _groups_ok(_decode_stat(a, k, slo.tpot_stat, random), slo.tpot_s),
        1,
        MAX_SIM_INSTANCES,
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
        predicted_ttft_s=max(_prefill_stat(a, m, slo.ttft_stat, pooled).values()),
        predicted_tpot_s=max(_decode_stat(a, n, slo.tpot_stat, random).values()),
        window_s=a.window_s,
        local_arrival_scv=a.arrival_scv,
        decode_dispersion=a.dispersion,
    )


# -- the plan -------------------------------------------------------------------------------


def _zero_load_check(profile: Profile, workload: Workload, slo: SLO) -> None:
    """Refuse a TTFT objective that the trace's own requests miss with no queueing at all."""
    assert workload.trace is not None
    keep = 1 - workload.prefix_hit_rate
    overhead = profile.prefill.overhead_s
    cache: dict[int, float] = {}
    values = []
    for isl in workload.trace.isl_tokens:
        t = cache.get(isl)
        if t is None:
            t = cache[isl] = overhead + prefill_time_s(profile.prefill, isl * keep)
        values.append(t)
    floor = Distribution.of(values)
    assert floor is not None
    best = floor.stat(slo.ttft_stat)
    if best > slo.ttft_s:
        raise InfeasibleSLOError(
            f"{slo.ttft_stat} TTFT SLO {slo.ttft_s:.4g} s cannot be met on this trace by any "
            f"number of prefill instances: with no queueing at all, the trace's own prompts give "
            f"a {slo.ttft_stat} TTFT of {best:.4g} s (overhead {overhead:.4g} s + prefill); set "
            f"the TTFT SLO above {best:.4g} s",
            field="ttft",
            achievable=best,
        )


def plan_trace(
    profile: Profile,
    workload: Workload,
    slo: SLO,
    *,
    model: Model = "auto",
    prefill_routing: PrefillRouting = "random",
    decode_routing: DecodeRouting = "least_loaded",
    slo_window_s: float | None = None,
    window_s: float = PSA_WINDOW_S,
    seed: int = 42,
    on_probe: OnProbe | None = None,
) -> TracePlan:
    """The smallest allocation whose replay of the workload's trace meets the SLOs.

    :param workload: a trace replay (:meth:`Workload.from_trace`)
    :param slo_window_s: the SLO statistic must hold in every window of this length
    :raises InfeasibleSLOError: when no allocation meets an SLO
    """
    if not workload.replays_trace or workload.trace is None:
        raise ConfigError("plan_trace plans a trace replay: build the workload from a trace")
    if slo_window_s is not None and not slo_window_s > 0:
        raise ConfigError(f"SLO window must be > 0 s, got {slo_window_s}")
    _zero_load_check(profile, workload, slo)
    mean_rate = workload.model_copy(update={"arrivals": Poisson()})
    routing = {"prefill_routing": prefill_routing, "decode_routing": decode_routing}
    mean_plan = size(profile, mean_rate, slo, model=model, **routing)  # type: ignore[arg-type]
    # the replays use the plan's routing and engine variability, on the trace itself
    replay_plan = mean_plan.model_copy(update={"workload": workload})
    analytic = analytic_allocation(
        profile,
        workload,
        slo,
        model=model,
        prefill_routing=prefill_routing,
        decode_routing=decode_routing,
        window_s=window_s,
        slo_window_s=slo_window_s,
        gpus=lambda m, n: _gpus(replay_plan, m, n),
    )
    tried: dict[tuple[int, int], ReplayResult] = {}
    order: list[ReplayResult] = []

    def run(m: int, n: int) -> ReplayResult:
        if (m, n) not in tried:
            if on_probe is not None:
                on_probe(f"replaying {m}P{n}D")
            tried[(m, n)] = replay(profile, replay_plan, m, n, slo_window_s=slo_window_s, seed=seed)
            order.append(tried[(m, n)])
        return tried[(m, n)]

    n0 = analytic.decode_instances
    m = _smallest_checked(
        lambda k: run(k, n0).ttft_met, analytic.prefill_instances, MAX_SIM_INSTANCES
    )
    if m is None:
        raise InfeasibleSLOError(
            f"no prefill count up to {MAX_SIM_INSTANCES} meets the {slo.ttft_stat} TTFT SLO "
            f"{slo.ttft_s:.4g} s on this replay",
            field="ttft",
            achievable=0.0,
        )
    n = _smallest_checked(lambda k: run(m, k).tpot_met, n0, MAX_SIM_INSTANCES)
    if n is None:
        raise InfeasibleSLOError(
            f"no decode count up to {MAX_SIM_INSTANCES} meets the {slo.tpot_stat} TPOT SLO "
            f"{slo.tpot_s * 1e3:.4g} ms on this replay",
            field="tpot",
            achievable=0.0,
        )
    chosen = run(m, n)
    mean_alloc = mean_plan.allocation
    mean_replay = run(mean_alloc.prefill_instances, mean_alloc.decode_instances)
    warnings = list(mean_plan.warnings)
    if not chosen.meets_slo:  # TTFT and TPOT searched apart; say so if the pair misses
        warnings.append(
            f"{chosen.allocation} meets each objective where it was searched but not both on "
            "one replay: treat it as a lower bound"
        )
    return TracePlan(
        model=model,
        workload=workload,
        slo=slo,
        slo_window_s=slo_window_s,
        trace=summarize_trace(workload.trace, workload.time_scale or 1.0),
        allocation=chosen,
        analytic_allocation=analytic,
        mean_rate_allocation=mean_replay,
        mean_rate_plan=mean_plan,
        searched=order,
        warnings=warnings,
    )
