"""Planned against simulated: the capacity the planner promises for an allocation, and the
capacity the simulator finds for it, on exactly the scenario that was planned. Pure (planner
+ simulator), no I/O.

The scenario is the plan's: its workload (length distributions, arrival process, prefix hit
rate, trace), its SLO statistics, its routing (``random`` prefill queues are random
routing to each instance's attention-DP groups, ``pooled`` one shared queue; decode
``least_loaded`` or ``random``) and the engine's service variability it assumed. When the
two capacities still differ, that is a model error, and ``error`` reports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from pydantic import BaseModel, ConfigDict, Field

from pdplan.errors import ConfigError
from pdplan.schema.plan import Allocation, Model, Plan
from pdplan.schema.profile import Profile
from pdplan.schema.workload import SLO, Workload
from pdplan.sim.capacity import MapFn, max_rate
from pdplan.sim.config import MAX_SIM_INSTANCES, ClusterConfig
from pdplan.sim.sweep import SweepPoint, sweep_rates

__all__ = ["Prediction", "VerifyRow", "cluster_for", "predict", "verify_plan"]


class VerifyRow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    allocation: str
    gpus: int | None
    planned_max_total_tps: float
    simulated_max_total_tps: float = Field(description="mean over the seeds")
    simulated_low_tps: float = Field(description="low end of its 90 % interval")
    simulated_high_tps: float = Field(description="high end of its 90 % interval")
    error: float | None = Field(
        description="planned / simulated - 1 (positive: the plan promises more); None if the "
        "simulated capacity is 0"
    )
    simulated_binding: str
    simulated_meets_target: bool


def cluster_for(plan: Plan, prefill_instances: int, decode_instances: int) -> ClusterConfig:
    """The simulated cluster that matches a plan's assumptions, at any instance counts.

    >>> from pdplan import SLO, Workload, default_profile, size
    >>> plan = size(default_profile(), Workload.from_tpm(isl_tokens=6144, osl_tokens=512,
    ...             tpm=5e6), SLO(ttft_s=2.0, tpot_s=0.020))
    >>> c = cluster_for(plan, 3, 4)
    >>> c.prefill_routing, c.decode_routing, c.prefill_service_scv
    ('random', 'least_loaded', 1.0)
    """
    return ClusterConfig(
        prefill_instances=prefill_instances,
        decode_instances=decode_instances,
        prefill_routing=plan.prefill_routing,
        decode_routing=plan.decode_routing,
        prefill_service_scv=plan.prefill.engine_scv,
    )


def verify_plan(
    profile: Profile,
    plan: Plan,
    *,
    requests: int = 20_000,
    seed: int = 42,
    map_fn: MapFn = map,
) -> list[VerifyRow]:
    """Simulate the planned allocation and its alternatives (``map_fn`` runs them, e.g. in
    worker processes); compare capacities.

    >>> from pdplan import SLO, Workload, default_profile, size
    >>> w = Workload.from_rps(isl_tokens=6144, osl_tokens=512, rate_rps=2.0)
    >>> plan = size(default_profile(), w, SLO(ttft_s=2, tpot_s=0.02), model="paper")
    >>> rows = verify_plan(default_profile(), plan, requests=1000)
    >>> rows[0].allocation, rows[0].simulated_low_tps <= rows[0].simulated_max_total_tps
    ('1P1D', True)
    """
    if plan.slo is None:
        raise ValueError("a plan made from given per-instance throughputs has no SLO to verify")
    for a in (plan.allocation, *plan.alternatives):
        if max(a.prefill_instances, a.decode_instances) > MAX_SIM_INSTANCES:
            raise ConfigError(
                f"--verify simulates at most {MAX_SIM_INSTANCES:,} instances per phase; the "
                f"plan needs {a.name}"
            )
    allocations: list[Allocation] = [plan.allocation, *plan.alternatives]
    ordered = sorted(allocations, key=lambda x: (x.gpus or 0, -x.max_total_tps))
    return list(map_fn(partial(_verify_row, profile, plan, requests, seed), ordered))


def _verify_row(profile: Profile, plan: Plan, requests: int, seed: int, a: Allocation) -> VerifyRow:
    assert plan.slo is not None
    cluster = cluster_for(plan, a.prefill_instances, a.decode_instances)
    cap = max_rate(profile, cluster, plan.workload, plan.slo, requests=requests, seed=seed)
    simulated = cap.max_total_tps
    return VerifyRow(
        allocation=a.name,
        gpus=a.gpus,
        planned_max_total_tps=a.max_total_tps,
        simulated_max_total_tps=simulated,
        simulated_low_tps=cap.max_total_low_tps,
        simulated_high_tps=cap.max_total_high_tps,
        error=a.max_total_tps / simulated - 1 if simulated else None,
        simulated_binding=cap.binding,
        simulated_meets_target=simulated >= plan.workload.total_tps,
    )


class Prediction(BaseModel):
    """What the planner and the simulator predict for one allocation under a plan's
    assumptions, and the simulated curve at given rates (a load test's steps)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allocation: str
    plan_model: str
    planned_max_total_tps: float
    simulated_max_total_tps: float
    simulated_sweep: list[SweepPoint]


def predict(
    profile: Profile,
    workload: Workload,
    slo: SLO,
    prefill_instances: int,
    decode_instances: int,
    multipliers: Sequence[float],
    *,
    model: Model = "auto",
    requests: int = 10_000,
    seed: int = 42,
) -> Prediction:
    """What the planner and the simulator predict for mPnD on this workload and SLO (the
    plan's assumptions: routing, engine variability), and the simulated curve at the given
    multiples of the workload's rate (a load test's steps).

    >>> from pdplan import SLO, Workload, default_profile
    >>> w = Workload.from_rps(isl_tokens=6144, osl_tokens=512, rate_rps=2.0)
    >>> p = predict(default_profile(), w, SLO(ttft_s=2, tpot_s=0.02), 1, 1, [0.5, 1.0],
    ...             model="paper", requests=500)
    >>> p.allocation, round(p.planned_max_total_tps), len(p.simulated_sweep)
    ('1P1D', 22189, 2)
    """
    from pdplan.plan.rate import rate_allocation, size

    plan = size(profile, workload, slo, model=model)
    planned = rate_allocation(
        profile,
        workload,
        slo,
        prefill_instances,
        decode_instances,
        model=model,
        prefill_routing=plan.prefill_routing,
        decode_routing=plan.decode_routing,
    )
    cluster = cluster_for(plan, prefill_instances, decode_instances)
    sim = max_rate(profile, cluster, workload, slo, requests=requests, seed=seed)
    rates = [workload.rate_rps * m for m in multipliers]
    return Prediction(
        allocation=cluster.name,
        plan_model=model,
        planned_max_total_tps=planned.max_total_tps,
        simulated_max_total_tps=sim.max_total_tps,
        simulated_sweep=sweep_rates(profile, cluster, rates, workload, slo, requests, seed),
    )
