"""Prefill under a TTFT SLO: the rate a pool of prefill instances sustains with the SLO's
TTFT statistic met, and the plan for a workload. Pure.

Each instance (each attention-DP group of one) is a queue whose service time is the prefill
time of the uncached input (:mod:`pdplan.engine.service_time`). ``paper``: M/M/1 on the mean rate,
whose mean is the paper's eq. 13 in closed form; ``queueing``/``auto``: GI/G/1 with the
lengths' and the engine's variability and the arrivals' burstiness, or one pooled GI/G/c
queue (:mod:`pdplan.queueing.sojourn`). One function computes the rate for every model
(:func:`pool_rate`), and one builds the error when no count meets the SLO.
"""

from __future__ import annotations

from pdplan.capacity.pool import RateOf, fractional_count, instances_needed, smallest_pool
from pdplan.engine.service_time import prefill_service, prefill_time_s
from pdplan.engine.variability import combine_scv, engine_scv
from pdplan.errors import InfeasibleSLOError
from pdplan.queueing.sojourn import (
    PrefillKind,
    ServiceShape,
    combine_shapes,
    gamma_shape,
    max_rate_rps,
    sojourn_stat_s,
)
from pdplan.schema.plan import Model, PrefillPlan
from pdplan.schema.profile import PrefillProfile
from pdplan.schema.routing import PrefillRouting
from pdplan.schema.workload import SLO, Workload

__all__ = [
    "mean_ttft_curves",
    "min_mean_ttft_s",
    "paper_effective_tps",
    "plan_prefill",
    "pool_rate",
]


def min_mean_ttft_s(
    max_tps: float, isl_tokens: float, overhead_s: float, dp_groups: int = 1
) -> float:
    """The smallest mean TTFT any load reaches: overhead plus the bare prefill time of one
    DP group (``dp_groups * ISL / TPmax``: the groups share the instance's TPmax).

    >>> round(min_mean_ttft_s(max_tps=28309, isl_tokens=6144, overhead_s=0.1), 4)
    0.317
    """
    return overhead_s + dp_groups * isl_tokens / max_tps


def pool_rate(
    kind: PrefillKind,
    service_s: float,
    scv: float,
    budget_s: float,
    slo: SLO,
    dp_groups: int,
    arrival_scv: float,
    shape: ServiceShape | None,
    routing: PrefillRouting,
) -> RateOf:
    """The pool's largest request rate with the TTFT statistic within ``budget_s`` (TTFT
    minus the overhead), for any instance count: one pooled queue over every DP group, or a
    queue per group fed a random share (thinning makes a renewal stream more Poisson-like:
    inter-arrival SCV ``1 + (scv - 1) / queues``).

    >>> rate = pool_rate("mm1", 0.1, 1.0, 0.5, SLO(ttft_s=1, tpot_s=1), 1, 1.0, None, "random")
    >>> round(rate(3), 6)  # three M/M/1 queues of 10 req/s, each at 10 - 1 / 0.5
    24.0
    """
    stat = slo.ttft_stat

    def rate_of(instances: int) -> float:
        queues = instances * dp_groups
        if routing == "pooled":
            return max_rate_rps(kind, service_s, scv, budget_s, stat, queues, arrival_scv, shape)
        split_scv = 1 + (arrival_scv - 1) / queues
        return queues * max_rate_rps(kind, service_s, scv, budget_s, stat, 1, split_scv, shape)

    return rate_of


def _infeasible(
    slo: SLO, floor_s: float, overhead_s: float, isl: float, group_tps: float
) -> InfeasibleSLOError:
    return InfeasibleSLOError(
        f"{slo.ttft_stat} TTFT SLO {slo.ttft_s:.4g} s cannot be met by any number of prefill "
        f"instances: at zero load the {slo.ttft_stat} TTFT is {floor_s:.4g} s (overhead "
        f"{overhead_s:.4g} s + prefill of ISL {isl:.0f} at {group_tps:.6g} tok/s); set the "
        f"TTFT SLO above {floor_s:.4g} s",
        field="ttft",
        achievable=floor_s,
    )


def paper_effective_tps(
    max_tps: float, isl_tokens: float, ttft_s: float, overhead_s: float, dp_groups: int = 1
) -> float:
    """Prefill throughput of one instance that keeps the mean TTFT at the SLO: the paper's
    eq. 13, ``TP_p = TPmax - dp_groups * ISL / (TTFT - T_overhead)`` (each DP group an M/M/1
    queue of ``TPmax / dp_groups``), through the same :func:`pool_rate` as every model.

    :raises InfeasibleSLOError: if TTFT <= overhead + the bare prefill time

    >>> round(paper_effective_tps(28309, 6144, ttft_s=2.0, overhead_s=0.1), 1)
    25075.3
    """
    service_s = dp_groups * isl_tokens / max_tps
    slo = SLO(ttft_s=ttft_s, tpot_s=1.0)
    budget_s = ttft_s - overhead_s
    rate = pool_rate("mm1", service_s, 1.0, budget_s, slo, dp_groups, 1.0, None, "random")
    floor_s = min_mean_ttft_s(max_tps, isl_tokens, overhead_s, dp_groups)
    if ttft_s <= floor_s or rate(1) <= 0:
        raise _infeasible(slo, floor_s, overhead_s, isl_tokens, max_tps / dp_groups)
    return rate(1) * isl_tokens


def _queue_name(model: Model, scv: float, arrival_scv: float, routing: PrefillRouting) -> str:
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


def plan_prefill(
    profile: PrefillProfile,
    workload: Workload,
    slo: SLO,
    warnings: list[str],
    model: Model,
    routing: PrefillRouting,
) -> tuple[PrefillPlan, RateOf]:
    """The prefill plan for the workload, and the pool's rate for any instance count.

    :raises InfeasibleSLOError: when no instance count meets the TTFT SLO

    >>> from pdplan import SLO, Workload, default_profile
    >>> w = Workload.from_tpm(isl_tokens=6144, osl_tokens=512, tpm=5e6)
    >>> plan, rate_of = plan_prefill(
    ...     default_profile().prefill, w, SLO(ttft_s=2, tpot_s=0.02), [], "paper", "random"
    ... )
    >>> round(plan.effective_input_tps, 1), round(rate_of(4), 3)  # eq. 13; 4 x TP_p / ISL
    (25075.3, 16.325)
    """
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
    engine, engine_source = engine_scv(profile, model, service.scv)
    paper = model == "paper"
    scv = 1.0 if paper else combine_scv(service.scv, engine)
    arrival_scv = 1.0 if paper else workload.arrival_scv
    # the service time's distribution, for percentiles: lengths x the engine's gamma noise
    shape = None if paper else combine_shapes(service.shape, gamma_shape(engine))
    kind: PrefillKind = "mm1" if paper else "mg1"
    rate_of = pool_rate(
        kind, service_s, scv, slo.ttft_s - overhead, slo, dp, arrival_scv, shape, routing
    )
    if rate_of(1) <= 0:
        floor = overhead + sojourn_stat_s(kind, 0.0, service_s, scv, slo.ttft_stat, shape=shape)
        raise _infeasible(slo, floor, overhead, isl, tpmax / dp)
    rate = workload.rate_rps
    if routing == "pooled":
        instances = float(smallest_pool(rate_of, rate, "prefill"))
    elif arrival_scv != 1.0:  # thinned bursts: not proportional; interpolate the count
        instances = fractional_count(rate_of, rate, "prefill")[1]
    else:  # independent Poisson queues: the pool's rate is proportional to its size
        instances = instances_needed(rate, 1.0, rate_of(1))
    effective = rate / instances * isl
    plan = PrefillPlan(
        isl_tokens=isl,
        max_tps=tpmax,
        overhead_s=overhead,
        min_ttft_s=overhead + service_s,
        effective_input_tps=effective,
        utilization=effective / tpmax,
        instances=instances,
        gpus_per_instance=profile.gpus_per_instance,
        queue_model=_queue_name(model, scv, arrival_scv, routing),
        service_scv=scv,
        service_scv_source=engine_source,
        engine_scv=1.0 if paper else engine,
        arrival_scv=arrival_scv,
    )
    return plan, rate_of


def mean_ttft_curves(
    profile: PrefillProfile, isl_tokens: int, points: int = 96
) -> tuple[list[float], dict[str, list[float]]]:
    """Mean TTFT (s) of one prefill queue against the arrival rate (req/s) at one ISL, as
    M/M/1 (the paper) and M/D/1 predict it: the lines the paper's Figure 1 draws beside the
    measured sweep. Rates from 0 to 95 % of the saturated rate.

    >>> from pdplan.io import default_profile
    >>> rates, curves = mean_ttft_curves(default_profile().prefill, 6144, points=3)
    >>> [round(t, 3) for t in curves["M/M/1 (paper)"]], [round(t, 3) for t in curves["M/D/1"]]
    ([0.317, 0.513, 4.441], [0.317, 0.415, 2.379])
    """
    service_s = prefill_time_s(profile, isl_tokens)
    top = 0.95 * profile.dp_groups / service_s
    rates = [top * k / (points - 1) for k in range(points)]
    per_group = [r / profile.dp_groups for r in rates]
    overhead = profile.overhead_s

    def curve(kind: PrefillKind, scv: float) -> list[float]:
        return [overhead + sojourn_stat_s(kind, r, service_s, scv, "mean") for r in per_group]

    return rates, {"M/M/1 (paper)": curve("mm1", 1.0), "M/D/1": curve("mg1", 0.0)}
