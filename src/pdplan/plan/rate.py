"""The planner: profile + workload + SLO -> plan. Pure functions, no I/O.

``model="paper"`` is the method of arXiv 2603.04716: prefill instances are M/M/1 queues sized
by eq. 13, decode instances run the largest batch whose TPOT meets the SLO, and eqs. 5-7 turn
per-instance throughputs into instance counts. ``model="queueing"`` replaces M/M/1 by M/G/1
with the service-time variability of the ISL distribution times the engine's own (fitted from
the profile's Poisson TTFT sweep, :mod:`pdplan.engine.variability`; M/D/1 for fixed lengths without
one), pools prefill instances behind one queue when asked (M/G/c), lets the decode batch
fluctuate with the arrivals (:mod:`pdplan.queueing.decode_batch`) and caps decode by measured
output tok/s. The phases are planned in :mod:`pdplan.capacity`; this module rates whole
allocations and puts the plan together. ``model="auto"`` (the default) is ``queueing``
that, lacking a sweep, assumes exponential service like the paper. All take mean or
percentile SLOs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from pdplan.capacity.decode import plan_decode
from pdplan.capacity.pool import EPS, RateOf, check_count, instances_needed
from pdplan.capacity.prefill import plan_prefill
from pdplan.engine.uncertainty import End, bounded_profile, check_confidence, has_intervals
from pdplan.errors import ConfigError, InfeasibleSLOError
from pdplan.schema.plan import (
    MODELS,
    Allocation,
    DecodePlan,
    DecodeRouting,
    Model,
    Plan,
    PrefillPlan,
    PrefillRouting,
)
from pdplan.schema.profile import INTERVAL_CONFIDENCE, Profile
from pdplan.schema.routing import PLANNED_DECODE_ROUTINGS, PLANNED_PREFILL_ROUTINGS
from pdplan.schema.workload import SLO, Workload, check_rate_rps
from pdplan.units import tps_to_tpm

__all__ = [
    "MODELS",
    "DecodeRouting",
    "Model",
    "PrefillRouting",
    "allocation_rater",
    "rate_allocation",
    "size",
    "size_from_instance_tps",
]


def size(
    profile: Profile,
    workload: Workload,
    slo: SLO,
    *,
    model: Model = "auto",
    prefill_routing: PrefillRouting = "random",
    decode_routing: DecodeRouting = "least_loaded",
    confidence: float | None = None,
) -> Plan:
    """Plan prefill and decode instances for a workload under TTFT/TPOT SLOs.

    :param model: ``auto`` (the default: ``queueing`` with the engine's service variability
        fitted from the profile's Poisson sweep, at least exponential without one),
        ``queueing`` (M/G/1 or M/G/c with the ISL's and the engine's variability, Poisson batch
        fluctuation under random decode routing) or ``paper`` (M/M/1, the paper's decode rule)
    :param prefill_routing: ``random`` (a queue per instance), or one ``pooled`` queue
    :param decode_routing: ``least_loaded`` (the pool's batches balanced; they still
        fluctuate with the arrivals, except under ``paper``, which holds B*) or ``random``
    :param confidence: plan on the pessimistic end of the profile's measurement intervals at
        this confidence (:mod:`pdplan.engine.uncertainty`; refused for a profile without
        intervals, :func:`~pdplan.engine.uncertainty.check_confidence`); None plans on the
        measured values. Either way a profile with intervals gives the chosen allocation's
        capacity as a range (``capacity_low_tps``..``capacity_high_tps``)
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
        check_confidence(profile, confidence)
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
    prefill_routing: PrefillRouting = "random",
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


def allocation_rater(
    profile: Profile,
    workload: Workload,
    slo: SLO,
    *,
    model: Model = "auto",
    prefill_routing: PrefillRouting = "random",
    decode_routing: DecodeRouting = "least_loaded",
) -> Callable[[int, int], Allocation]:
    """:func:`rate_allocation` for many allocations of one scenario: the phases are modelled
    once, each call rates one mPnD (a search over allocations, e.g. a Pareto front).

    >>> from pdplan.io import default_profile
    >>> rate = allocation_rater(default_profile(), Workload.from_tpm(isl_tokens=6144,
    ...                         osl_tokens=512, tpm=5e6), SLO(ttft_s=2.0, tpot_s=0.020))
    >>> tuple(round(rate(m, 4).max_tpm / 1e6, 2) for m in (3, 4))
    (4.89, 5.26)
    """
    prefill, decode, prefill_rps, decode_rps = _phases(
        profile, workload, slo, [], model, prefill_routing, decode_routing
    )
    return lambda m, n: _rate(m, n, prefill_rps, decode_rps, prefill, decode, workload)


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
    if (
        prefill_routing not in PLANNED_PREFILL_ROUTINGS
        or decode_routing not in PLANNED_DECODE_ROUTINGS
    ):
        raise ConfigError(
            f"the planning models describe prefill routing {' or '.join(PLANNED_PREFILL_ROUTINGS)}"
            f" and decode routing {' or '.join(PLANNED_DECODE_ROUTINGS)}, got {prefill_routing} /"
            f" {decode_routing}: simulate other routings with pdplan simulate"
        )
    if model == "paper" and (prefill_routing, decode_routing) != ("random", "least_loaded"):
        raise ConfigError(
            "model paper assumes independent prefill queues and least-loaded decode routing; "
            "use --plan-model queueing (or auto) for pooled or random routing"
        )
    prefill, prefill_rps = plan_prefill(
        profile.prefill, workload, slo, warnings, model, prefill_routing
    )
    decode, decode_rps = plan_decode(profile.decode, workload, slo, warnings, model, decode_routing)
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
        effective_input_tps=prefill_tps,
        utilization=None,
        instances=instances_needed(rate, workload.prefill_isl_tokens, prefill_tps),
        gpus_per_instance=prefill_gpus,
    )
    decode = DecodePlan(
        batch=None,
        tpot_s=None,
        batch_limit=None,
        effective_output_tps=decode_tps,
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
        meets_target=total >= workload.total_tps * (1 - EPS),
        binding="prefill" if prefill_total <= decode_total else "decode",
    )


def _ceil(x: float) -> int:
    return max(1, math.ceil(x - EPS))


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
    check_count("prefill", prefill.instances, workload.rate_rps)
    check_count("decode", decode.instances, workload.rate_rps)
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
