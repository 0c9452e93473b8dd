"""What the analytic trace model needs, computed once per trace: the replay's arrivals and
service times, its pointwise-stationary windows, the engine's variability, the TPOT table and
the burstiness at the decode time scale (:class:`AnalyticInputs`). Pure."""

from __future__ import annotations

from dataclasses import dataclass

from pdplan.engine.curves import MonotoneCurve
from pdplan.engine.service_time import prefill_service, prefill_time_s
from pdplan.engine.variability import engine_scv
from pdplan.plan.trace.windows import Window, psa_windows
from pdplan.queueing.transient import noise_atoms
from pdplan.schema.plan import Model
from pdplan.schema.profile import Profile
from pdplan.schema.workload import SLO, Workload
from pdplan.traffic.summary import local_arrival_scv, local_dispersion
from pdplan.units import ms_to_s

__all__ = ["AnalyticInputs", "analytic_inputs"]


@dataclass(frozen=True)
class AnalyticInputs:
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


def analytic_inputs(
    profile: Profile,
    workload: Workload,
    slo: SLO,
    model: Model,
    window_s: float,
    slo_window_s: float | None,
) -> AnalyticInputs:
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
    return AnalyticInputs(
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
