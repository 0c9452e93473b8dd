"""Hardware choice: the cheapest mix of measured configurations, one per phase, that meets the
SLOs, and the Pareto front of cost (or GPUs) against the throughput sustained. Pure.

Every prefill option (a profile's prefill section) is paired with every decode option (a
profile's decode section); each pair is planned as one profile by :func:`pdplan.plan.rate.size`
(the same models as any plan), and its cost is ``m x GPUs per prefill instance x price +
n x GPUs per decode instance x price``. A pair whose sides were measured on different profiles
has the KV transfer of the slower side: the larger of the two profiles' ``overhead_s`` (the
fixed TTFT part that includes the P->D transfer), stated in the answer. Without a price for
every option the objective is the GPU count.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pdplan.errors import ConfigError, InfeasibleSLOError
from pdplan.plan.rate import allocation_rater, size
from pdplan.schema.plan import DecodeRouting, Model, Plan, PrefillRouting
from pdplan.schema.profile import SCHEMA_VERSION, Profile, ProfileMetadata
from pdplan.schema.workload import SLO, Workload

__all__ = ["HardwareOption", "MixCandidate", "MixPlan", "combine", "plan_mix"]

_CONFIG = ConfigDict(extra="forbid", frozen=True)
#: How far past a pair's smallest allocation the front looks, instances per phase.
FRONT_STEPS = 6


class HardwareOption(BaseModel):
    """One measured configuration for a phase: a name, its profile, its price."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)
    name: str = Field(min_length=1, description="e.g. the profile's hardware, or its file")
    profile: Profile
    cost_per_gpu_hour: float | None = Field(None, gt=0, allow_inf_nan=False)


class MixCandidate(BaseModel):
    """An allocation of one prefill option and one decode option, rated."""

    model_config = _CONFIG
    prefill: str = Field(description="the prefill option's name")
    decode: str = Field(description="the decode option's name")
    allocation: str
    prefill_instances: int
    decode_instances: int
    gpus: int
    cost_per_hour: float | None = Field(description="None when an option has no price")
    max_total_tps: float = Field(description="total tok/s the allocation sustains, SLOs met")
    meets_target: bool
    overhead_s: float = Field(description="the TTFT overhead planned (the slower side's)")
    over_budget: bool = Field(
        False, description="beyond --gpu-budget or --max-cost-per-hour (not a choice)"
    )


class MixPlan(BaseModel):
    """The answer: the chosen mix, each pair's smallest allocation, the Pareto front."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)
    objective: Literal["cost", "gpus"] = Field(description="what was minimised")
    chosen: MixCandidate
    plan: Plan = Field(exclude=True, description="the chosen pair's plan")
    pairs: list[MixCandidate] = Field(description="each feasible pair's smallest allocation")
    pareto: list[MixCandidate] = Field(
        description="allocations no other is cheaper (or smaller) and faster than, meeting the "
        "target, by cost"
    )
    infeasible: list[str] = Field(description="pairs that cannot meet the SLOs, and why")
    warnings: list[str]


def combine(prefill: HardwareOption, decode: HardwareOption) -> tuple[Profile, float]:
    """One profile from the prefill side of one option and the decode side of another; the
    overhead (with its interval) is the slower side's. Returns it and that overhead.

    >>> from pdplan.io import default_profile
    >>> p = default_profile()
    >>> slow = p.model_copy(update={"prefill": p.prefill.model_copy(update={"overhead_s": 0.3})})
    >>> _, overhead = combine(HardwareOption(name="a", profile=p), HardwareOption(name="b",
    ...                       profile=slow))
    >>> overhead
    0.3
    """
    a, b = prefill.profile.prefill, decode.profile.prefill
    slower = b if b.overhead_s > a.overhead_s else a
    section = a.model_copy(
        update={
            "overhead_s": slower.overhead_s,
            "overhead_low_s": slower.overhead_low_s,
            "overhead_high_s": slower.overhead_high_s,
        }
    )
    meta = ProfileMetadata(
        model=prefill.profile.metadata.model or decode.profile.metadata.model,
        hardware=f"prefill {prefill.name}, decode {decode.name}",
        source=f"pdplan size: prefill of {prefill.name}, decode of {decode.name}",
    )
    profile = Profile(
        schema_version=SCHEMA_VERSION, metadata=meta, prefill=section, decode=decode.profile.decode
    )
    return profile, slower.overhead_s


def _cost(
    prefill: HardwareOption, decode: HardwareOption, m: int, n: int, profile: Profile
) -> tuple[int, float | None]:
    gpus = m * profile.prefill.gpus_per_instance + n * profile.decode.gpus_per_instance
    if prefill.cost_per_gpu_hour is None or decode.cost_per_gpu_hour is None:
        return gpus, None
    return gpus, (
        m * profile.prefill.gpus_per_instance * prefill.cost_per_gpu_hour
        + n * profile.decode.gpus_per_instance * decode.cost_per_gpu_hour
    )


def _pareto(candidates: list[MixCandidate], by_cost: bool) -> list[MixCandidate]:
    def price(c: MixCandidate) -> float:
        return (c.cost_per_hour if by_cost else c.gpus) or 0.0

    front: list[MixCandidate] = []
    best_tps = -math.inf
    for c in sorted(candidates, key=lambda c: (price(c), -c.max_total_tps)):
        if c.max_total_tps > best_tps * (1 + 1e-9):
            front.append(c)
            best_tps = c.max_total_tps
    return front


def plan_mix(
    prefill_options: list[HardwareOption],
    decode_options: list[HardwareOption],
    workload: Workload,
    slo: SLO,
    *,
    model: Model = "auto",
    prefill_routing: PrefillRouting = "random",
    decode_routing: DecodeRouting = "least_loaded",
    gpu_budget: int | None = None,
    max_cost_per_hour: float | None = None,
) -> MixPlan:
    """The cheapest (or smallest) pair and allocation meeting the target and the SLOs within
    the budgets; see the module docstring.

    :raises InfeasibleSLOError: when no pair meets the SLOs, or none fits the budgets

    >>> from pdplan.io import default_profile
    >>> p = default_profile()
    >>> fast = p.model_copy(update={"prefill": p.prefill.model_copy(update={"max_throughput": [
    ...     t.model_copy(update={"max_tps": 2 * t.max_tps}) for t in p.prefill.max_throughput]})})
    >>> w = Workload.from_tpm(isl_tokens=6144, osl_tokens=512, tpm=5e6)
    >>> mix = plan_mix([HardwareOption(name="h200", profile=p, cost_per_gpu_hour=3.0),
    ...                 HardwareOption(name="h200x2", profile=fast, cost_per_gpu_hour=5.0)],
    ...                [HardwareOption(name="h200", profile=p, cost_per_gpu_hour=3.0)],
    ...                w, SLO(ttft_s=2, tpot_s=0.02), model="paper")
    >>> mix.chosen.prefill, mix.chosen.allocation, mix.chosen.cost_per_hour
    ('h200x2', '2P4D', 176.0)
    """
    if not prefill_options or not decode_options:
        raise ConfigError("hardware choice needs at least one prefill and one decode option")
    priced, warnings = _pricing([*prefill_options, *decode_options], max_cost_per_hour)
    pairs, front, infeasible, plans = [], [], [], {}
    for p_opt in prefill_options:
        for d_opt in decode_options:
            try:
                plan, around = _pair(p_opt, d_opt, workload, slo, model, prefill_routing,
                                     decode_routing)  # fmt: skip
            except (InfeasibleSLOError, ConfigError) as exc:
                infeasible.append(f"prefill {p_opt.name} + decode {d_opt.name}: {exc}")
                continue
            pairs.append(around[0])
            plans[(p_opt.name, d_opt.name)] = plan
            front.extend(around)
    if not pairs:
        raise InfeasibleSLOError(
            "no pair of prefill and decode options meets the SLOs: " + "; ".join(infeasible),
            field="ttft",
            achievable=0.0,
        )

    def within(c: MixCandidate) -> bool:
        return (gpu_budget is None or c.gpus <= gpu_budget) and (
            max_cost_per_hour is None
            or (c.cost_per_hour is not None and c.cost_per_hour <= max_cost_per_hour)
        )

    def key(c: MixCandidate) -> tuple[float, float]:
        return ((c.cost_per_hour or 0.0) if priced else float(c.gpus), -c.max_total_tps)

    fitting = [c for c in pairs if within(c)]
    if not fitting:
        raise _over_budget(min(pairs, key=key))
    chosen = min(fitting, key=key)
    return MixPlan(
        objective="cost" if priced else "gpus",
        chosen=chosen,
        plan=plans[(chosen.prefill, chosen.decode)],
        pairs=sorted((c.model_copy(update={"over_budget": not within(c)}) for c in pairs), key=key),
        pareto=_pareto([c for c in front if c.meets_target and within(c)], priced),
        infeasible=infeasible,
        warnings=warnings,
    )


def _pricing(
    options: list[HardwareOption], max_cost_per_hour: float | None
) -> tuple[bool, list[str]]:
    """Whether every option has a price (else GPUs are minimised, with a warning)."""
    unpriced = sorted({o.name for o in options if o.cost_per_gpu_hour is None})
    if not unpriced:
        return True, []
    if max_cost_per_hour is not None:
        raise ConfigError("--max-cost-per-hour needs a price for every option")
    return False, [
        f"no price for {', '.join(unpriced)} (cost_per_gpu_hour in the profile's metadata, "
        "or --gpu-cost): minimising GPUs instead of cost"
    ]


def _pair(
    p_opt: HardwareOption,
    d_opt: HardwareOption,
    workload: Workload,
    slo: SLO,
    model: Model,
    prefill_routing: PrefillRouting,
    decode_routing: DecodeRouting,
) -> tuple[Plan, list[MixCandidate]]:
    """One pair's plan, and its allocation then the ones around it (for the Pareto front).

    :raises InfeasibleSLOError, ConfigError: when the pair cannot meet the SLOs
    """
    profile, overhead = combine(p_opt, d_opt)
    routing = {"prefill_routing": prefill_routing, "decode_routing": decode_routing}
    plan = size(profile, workload, slo, model=model, **routing)  # type: ignore[arg-type]
    rate = allocation_rater(profile, workload, slo, model=model, **routing)  # type: ignore[arg-type]
    a = plan.allocation
    around = []
    for m in range(a.prefill_instances, a.prefill_instances + FRONT_STEPS):
        for n in range(a.decode_instances, a.decode_instances + FRONT_STEPS):
            rated = rate(m, n)
            gpus, cost = _cost(p_opt, d_opt, m, n, profile)
            around.append(
                MixCandidate(
                    prefill=p_opt.name,
                    decode=d_opt.name,
                    allocation=rated.name,
                    prefill_instances=m,
                    decode_instances=n,
                    gpus=gpus,
                    cost_per_hour=cost,
                    max_total_tps=rated.max_total_tps,
                    meets_target=rated.meets_target,
                    overhead_s=overhead,
                )
            )
    return plan, around


def _over_budget(cheapest: MixCandidate) -> InfeasibleSLOError:
    price = "" if cheapest.cost_per_hour is None else f" at {cheapest.cost_per_hour:,.2f} per hour"
    return InfeasibleSLOError(
        f"no mix meeting the SLOs fits the budget: the smallest is {cheapest.allocation} "
        f"(prefill {cheapest.prefill}, decode {cheapest.decode}) with {cheapest.gpus} GPUs{price}",
        field="budget",
        achievable=float(cheapest.gpus),
    )
