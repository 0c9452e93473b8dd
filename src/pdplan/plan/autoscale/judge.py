"""Autoscaling policies judged on the replay that checks a schedule: each policy's main knob
searched for the cheapest setting that meets the SLOs in every window. Pure; each policy's
search is one independent task (:func:`search_policy`), so a ``map`` runs them in worker
processes or on a Ray cluster with the same results.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pdplan.plan.autoscale.policies import (
    PREDICTORS,
    Capacity,
    Predictor,
    ThresholdPolicy,
    ThroughputPolicy,
)
from pdplan.schema.plan import Plan
from pdplan.schema.profile import Profile
from pdplan.schema.workload import SLO
from pdplan.sim.config import SimConfig
from pdplan.sim.elastic import Controller
from pdplan.sim.elastic_replay import ElasticReplay, WindowRow, simulate_elastic

__all__ = [
    "HEADROOMS",
    "TARGETS",
    "PolicyJob",
    "PolicyRow",
    "capacity_of",
    "policy_jobs",
    "row_of",
    "search_policy",
]

#: The throughput policy's headroom factors searched, smallest first.
HEADROOMS = (1.0, 1.1, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0)
#: The threshold policy's target utilisations searched, cheapest (highest) first (above 1: a
#: queue per instance is the target).
TARGETS = (2.0, 1.5, 1.25, 1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1)

Kind = Literal["throughput", "threshold"]


class Tried(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    value: float
    meets: bool
    failed_windows: int
    gpu_hours: float


class PolicyRow(BaseModel):
    """One policy (or reference) on the replay."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    policy: str
    knob: str | None = Field(description="the setting searched (None: nothing to set)")
    value: float | None = Field(description="the cheapest setting that meets every window")
    meets: bool = Field(description="every window meets the SLOs")
    windows: int
    windows_met: int
    worst_window_start_s: float | None
    worst_ttft_s: float | None = Field(description="the worst window's TTFT statistic")
    worst_tpot_s: float | None = Field(description="the worst window's TPOT statistic")
    gpu_hours: float
    scaling_events: int
    tried: list[Tried] = Field(default_factory=list, description="the settings replayed")


def row_of(
    policy: str,
    replay: ElasticReplay,
    slo: SLO,
    knob: str | None = None,
    value: float | None = None,
    tried: list[Tried] | None = None,
) -> PolicyRow:
    """A replay's line in the policies table; the worst window is the one furthest over (or
    closest to) an objective."""
    busy = [w for w in replay.windows if w.requests]

    def excess(w: WindowRow) -> float:
        return max((w.ttft_s or 0.0) / slo.ttft_s, (w.tpot_s or 0.0) / slo.tpot_s)

    worst = max(busy, key=excess, default=None)
    return PolicyRow(
        policy=policy,
        knob=knob,
        value=value,
        meets=replay.meets_slo,
        windows=len(busy),
        windows_met=sum(w.meets for w in busy),
        worst_window_start_s=None if worst is None else worst.start_s,
        worst_ttft_s=None if worst is None else worst.ttft_s,
        worst_tpot_s=None if worst is None else worst.tpot_s,
        gpu_hours=replay.gpu_hours,
        scaling_events=replay.scaling_events,
        tried=tried or [],
    )


def capacity_of(profile: Profile, plan: Plan) -> Capacity:
    """One instance's throughput as the policies see it: TPmax at the workload's mean input
    length, and the batch that meets TPOT (the plan's B*)."""
    p, d = plan.prefill, plan.decode
    if p.max_tps is None or d.batch is None or d.tpot_s is None:
        raise ValueError("the policies need a plan from a measured profile")
    return Capacity(p.max_tps, d.batch, d.tpot_s, profile.prefill.dp_groups)


@dataclass(frozen=True)
class PolicyJob:
    """One policy's knob search on the replay."""

    kind: Kind
    predictor: Predictor | None
    profile: Profile
    config: SimConfig
    slo: SLO
    window_s: float
    delay_s: float
    capacity: Capacity
    initial: tuple[int, int]
    min_instances: tuple[int, int]
    max_instances: tuple[int, int]
    interval_s: float = 180.0

    @property
    def name(self) -> str:
        return f"throughput {self.predictor}" if self.kind == "throughput" else "threshold HPA"

    @property
    def knob(self) -> str:
        return "headroom" if self.kind == "throughput" else "target utilization"

    def controller(self, value: float) -> Controller:
        lo, hi = self.min_instances, self.max_instances
        if self.kind == "throughput":
            assert self.predictor is not None
            return ThroughputPolicy(
                self.capacity,
                self.initial,
                predictor=self.predictor,
                headroom=value,
                interval_s=self.interval_s,
                min_instances=lo,
                max_instances=hi,
            )
        return ThresholdPolicy(
            self.capacity, self.initial, target=value, min_instances=lo, max_instances=hi
        )

    def replay(self, value: float) -> ElasticReplay:
        return simulate_elastic(
            self.profile,
            self.config,
            self.controller(value),
            self.slo,
            scale_up_delay_s=self.delay_s,
            window_s=self.window_s,
        )


def policy_jobs(
    profile: Profile,
    config: SimConfig,
    slo: SLO,
    *,
    window_s: float,
    delay_s: float,
    capacity: Capacity,
    initial: tuple[int, int],
    min_instances: tuple[int, int],
    max_instances: tuple[int, int],
    interval_s: float = 180.0,
) -> list[PolicyJob]:
    """The throughput policy with each predictor, and the threshold policy."""
    common = {
        "profile": profile,
        "config": config,
        "slo": slo,
        "window_s": window_s,
        "delay_s": delay_s,
        "capacity": capacity,
        "initial": initial,
        "min_instances": min_instances,
        "max_instances": max_instances,
        "interval_s": interval_s,
    }
    jobs = [PolicyJob("throughput", p, **common) for p in PREDICTORS]  # type: ignore[arg-type]
    return [*jobs, PolicyJob("threshold", None, **common)]  # type: ignore[arg-type]


def search_policy(job: PolicyJob) -> PolicyRow:
    """The cheapest knob setting whose replay meets every window (the settings are ordered
    from cheapest to safest; bisection assumes a safer setting never breaks a window that a
    cheaper one met). When even the safest misses, its row says by how much."""
    grid = HEADROOMS if job.kind == "throughput" else TARGETS
    replays: dict[int, ElasticReplay] = {}

    def run(i: int) -> ElasticReplay:
        if i not in replays:
            replays[i] = job.replay(grid[i])
        return replays[i]

    lo, hi = -1, len(grid) - 1  # run(hi) meets, unless nothing does
    if run(hi).meets_slo:
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if run(mid).meets_slo:
                hi = mid
            else:
                lo = mid
    tried = [
        Tried(
            value=grid[i],
            meets=r.meets_slo,
            failed_windows=len(r.failed_windows),
            gpu_hours=r.gpu_hours,
        )
        for i, r in sorted(replays.items())
    ]
    return row_of(job.name, run(hi), job.slo, job.knob, grid[hi], tried)
