"""The planner: profile + workload + SLO -> plan. Pure functions, no I/O.

This is the method of arXiv 2603.04716 (``model="paper"``): prefill instances are M/M/1
queues sized by eq. 13, decode instances run the largest batch whose TPOT meets the SLO,
and eqs. 5-7 turn per-instance throughputs into instance counts. Whole allocations are then
rated by the total throughput they sustain with both SLOs met.
"""

from __future__ import annotations

import math

from pdplan.curves import interpolate
from pdplan.models.plan import Allocation, DecodePlan, Plan, PrefillPlan
from pdplan.models.profile import DecodeCurve, DecodeProfile, PrefillProfile, Profile
from pdplan.models.workload import SLO, Workload
from pdplan.slo import decode_max_batch, instances_needed, min_mean_ttft_s, prefill_effective_tps
from pdplan.units import ms_to_s, s_to_ms, tps_to_tpm

__all__ = ["rate_allocation", "size", "size_from_instance_tps"]

_EPS = 1e-9


def size(profile: Profile, workload: Workload, slo: SLO) -> Plan:
    """Plan prefill and decode instances for a workload under mean TTFT/TPOT SLOs.

    :raises InfeasibleSLOError: when no instance count meets an SLO; the error says what
        is achievable

    >>> from pdplan.io import default_profile
    >>> plan = size(default_profile(), Workload.from_tpm(isl_tokens=6144, osl_tokens=512,
    ...             tpm=5e6), SLO(ttft_s=2.0, tpot_s=0.020))
    >>> plan.allocation.name, round(plan.pd_ratio, 2)
    ('4P4D', 0.82)
    """
    warnings: list[str] = []
    prefill = _plan_prefill(profile.prefill, workload, slo, warnings)
    decode = _plan_decode(profile.decode, workload, slo, warnings)
    return _finish(prefill, decode, workload, slo, warnings)


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
    return _finish(prefill, decode, workload, None, [])


def rate_allocation(
    prefill_instances: int,
    decode_instances: int,
    prefill: PrefillPlan,
    decode: DecodePlan,
    workload: Workload,
) -> Allocation:
    """The total throughput an mPnD allocation sustains with both SLOs met.

    Each pool carries at most ``count * per_instance_tps / tokens_per_request`` requests/s;
    the allocation carries the smaller of the two, times ``ISL + OSL`` tokens.
    """
    tokens_per_request = workload.isl_tokens + workload.osl_tokens
    prefill_total = (
        prefill_instances * prefill.effective_tps / prefill.isl_tokens * tokens_per_request
    )
    decode_total = (
        decode_instances * decode.effective_tps / workload.osl_tokens * tokens_per_request
    )
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
) -> Plan:
    m, n = _ceil(prefill.instances), _ceil(decode.instances)
    chosen = rate_allocation(m, n, prefill, decode, workload)
    neighbours = [(m - 1, n), (m, n - 1), (m - 1, n - 1)]
    alternatives = [
        rate_allocation(p, d, prefill, decode, workload) for p, d in neighbours if p >= 1 and d >= 1
    ]
    alternatives.sort(key=lambda a: (a.gpus or 0, -a.max_total_tps))
    return Plan(
        model="paper",
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


def _plan_prefill(
    profile: PrefillProfile, workload: Workload, slo: SLO, warnings: list[str]
) -> PrefillPlan:
    isl = workload.prefill_isl_tokens
    isls = [p.isl_tokens for p in profile.max_throughput]
    lookup = interpolate(isls, [p.max_tps for p in profile.max_throughput], isl)
    if lookup.clamped:
        warnings.append(
            f"prefill TPmax was measured for ISL {isls[0]}..{isls[-1]} tokens only; ISL "
            f"{isl:.0f} uses the nearest measured value {lookup.value:.6g} tok/s (not "
            f"extrapolated): profile ISL {isl:.0f} for an accurate plan"
        )
    effective = prefill_effective_tps(
        lookup.value, isl, slo.ttft_s, profile.overhead_s, profile.dp_groups
    )
    return PrefillPlan(
        isl_tokens=isl,
        max_tps=lookup.value,
        overhead_s=profile.overhead_s,
        min_ttft_s=min_mean_ttft_s(lookup.value, isl, profile.overhead_s, profile.dp_groups),
        effective_tps=effective,
        utilization=effective / lookup.value,
        instances=instances_needed(workload.rate_rps, isl, effective),
        gpus_per_instance=profile.gpus_per_instance,
    )


def _select_curve(profile: DecodeProfile, workload: Workload, warnings: list[str]) -> DecodeCurve:
    """The curve measured at the workload's (ISL, OSL), else the nearest, with a warning."""
    curve = profile.curve_for(workload.isl_tokens, workload.osl_tokens)
    if (curve.isl_tokens, curve.osl_tokens) != (workload.isl_tokens, workload.osl_tokens):
        warnings.append(
            f"decode TPOT was not measured at ISL {workload.isl_tokens} / OSL "
            f"{workload.osl_tokens}; using the curve measured at ISL {curve.isl_tokens} / OSL "
            f"{curve.osl_tokens} (nearest mean context): profile the workload's lengths for an "
            "accurate plan"
        )
    return curve


def _plan_decode(
    profile: DecodeProfile, workload: Workload, slo: SLO, warnings: list[str]
) -> DecodePlan:
    curve = _select_curve(profile, workload, warnings)
    kv_batch = None
    if profile.kv_capacity_tokens is not None:
        kv_batch = profile.kv_capacity_tokens // (workload.isl_tokens + workload.osl_tokens)
    batches = [p.batch for p in curve.points]
    chosen = decode_max_batch(
        batches, [ms_to_s(p.tpot_ms) for p in curve.points], slo.tpot_s, kv_batch
    )
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
    effective = chosen.batch / chosen.tpot_s
    return DecodePlan(
        batch=chosen.batch,
        tpot_s=chosen.tpot_s,
        batch_limit=chosen.limit,
        effective_tps=effective,
        instances=instances_needed(workload.rate_rps, workload.osl_tokens, effective),
        gpus_per_instance=profile.gpus_per_instance,
    )
