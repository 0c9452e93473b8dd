"""One allocation's replay of a trace through the simulator, judged on the SLOs (over the
whole replay, and per SLO window with ``--slo-window``). Pure."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from pdplan.plan.verify import cluster_for
from pdplan.quantiles import Distribution
from pdplan.schema.plan import Plan
from pdplan.schema.profile import Profile
from pdplan.schema.verdict import Verdict
from pdplan.schema.workload import SLO
from pdplan.sim.cluster import simulate
from pdplan.sim.config import SimConfig
from pdplan.sim.elastic_replay import window_groups
from pdplan.sim.metrics import Columns, SimResult, judge_requests

__all__ = ["ReplayResult", "WindowVerdict", "gpus_of", "replay"]


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


def gpus_of(plan: Plan, m: int, n: int) -> int | None:
    """GPUs of mPnD under the plan's GPUs per instance (None when the profile does not say).

    >>> from pdplan import SLO, Workload, default_profile, size
    >>> w = Workload.from_rps(isl_tokens=6144, osl_tokens=512, rate_rps=2.0)
    >>> gpus_of(size(default_profile(), w, SLO(ttft_s=2, tpot_s=0.02)), 3, 4)  # 8 per instance
    56
    """
    p, d = plan.prefill.gpus_per_instance, plan.decode.gpus_per_instance
    return None if p is None or d is None else m * p + n * d


def _windows_verdict(
    columns: Columns, slo: SLO, window_s: float
) -> tuple[WindowVerdict, bool, bool]:
    groups = window_groups(columns.arrival_s, window_s, offset=-columns.arrival_s[0])
    failed = 0
    worst_ttft = worst_tpot = None
    ttft_ok = tpot_ok = True
    latency = columns.latency_s()
    for members in groups.values():
        v = judge_requests(latency, members, slo)
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

    >>> import random
    >>> from pdplan import SLO, Workload, default_profile, size
    >>> from pdplan.schema.trace import Trace
    >>> rng = random.Random(1)
    >>> times = sorted(rng.uniform(0, 600) for _ in range(600))
    >>> w = Workload.from_trace(Trace(tuple(times), (6144,) * 600, (512,) * 600), time_scale=10)
    >>> plan = size(default_profile(), w, SLO(ttft_s=2, tpot_s=0.02), model="paper")
    >>> r = replay(default_profile(), plan, 3, 4)
    >>> r.allocation, r.meets_slo, round(r.ttft_s.mean, 3)
    ('3P4D', True, 0.914)
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
        gpus=gpus_of(plan, m, n),
        requests=result.requests_measured,
        ttft_s=result.ttft_s,
        tpot_s=result.tpot_s,
        slo_attainment=result.slo_attainment,
        ttft_met=ttft_met,
        tpot_met=tpot_met,
        meets_slo=ttft_met and tpot_met,
        windows=windows,
    )
