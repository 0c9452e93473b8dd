"""Planned against simulated: the capacity the planner promises for an allocation, and the
capacity the simulator finds for it. Pure (planner + simulator), no I/O."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from pdplan.models.plan import Allocation, Plan
from pdplan.models.profile import Profile
from pdplan.models.workload import SLO
from pdplan.sim.capacity import Stat, max_rate
from pdplan.sim.config import ClusterConfig, PrefillRouting
from pdplan.sim.lengths import Fixed, LengthDist

__all__ = ["VerifyRow", "verify_plan"]


class VerifyRow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    allocation: str
    gpus: int | None
    planned_max_total_tps: float
    simulated_max_total_tps: float
    error: float | None = Field(
        description="planned / simulated - 1 (positive: the plan promises more); None if the "
        "simulated capacity is 0"
    )
    simulated_binding: str
    simulated_meets_target: bool


def verify_plan(
    profile: Profile,
    plan: Plan,
    slo: SLO,
    *,
    isl: LengthDist | None = None,
    osl: LengthDist | None = None,
    stat: Stat = "mean",
    routing: PrefillRouting = "random",
    requests: int = 20_000,
    seed: int = 42,
) -> list[VerifyRow]:
    """Simulate the planned allocation and its alternatives; compare capacities."""
    w = plan.workload
    isl = isl or Fixed(tokens=w.isl_tokens)
    osl = osl or Fixed(tokens=w.osl_tokens)
    rows = []
    allocations: list[Allocation] = [plan.allocation, *plan.alternatives]
    for a in sorted(allocations, key=lambda x: (x.gpus or 0, -x.max_total_tps)):
        cluster = ClusterConfig(
            prefill_instances=a.prefill_instances,
            decode_instances=a.decode_instances,
            prefill_routing=routing,
        )
        cap = max_rate(profile, cluster, isl, osl, slo, stat=stat, requests=requests, seed=seed)
        rows.append(
            VerifyRow(
                allocation=a.name,
                gpus=a.gpus,
                planned_max_total_tps=a.max_total_tps,
                simulated_max_total_tps=cap.max_total_tps,
                error=a.max_total_tps / cap.max_total_tps - 1 if cap.max_total_tps else None,
                simulated_binding=cap.binding,
                simulated_meets_target=cap.max_total_tps >= w.total_tps,
            )
        )
    return rows
