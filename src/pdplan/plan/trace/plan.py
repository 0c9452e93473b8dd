"""The answer of ``pdplan size --trace``: the analytic answer, then the smallest allocation
whose replay meets the SLOs, and what the mean-rate plan buys on the same replay. Pure
(planner + simulator); ``on_probe`` lets a caller show progress."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field

from pdplan.engine.service_time import prefill_time_s
from pdplan.errors import ConfigError, InfeasibleSLOError
from pdplan.plan.rate import size
from pdplan.plan.trace.analytic import PSA_WINDOW_S, AnalyticAllocation, analytic_allocation
from pdplan.plan.trace.replay import ReplayResult, gpus_of, replay
from pdplan.plan.trace.search import smallest_checked
from pdplan.quantiles import Distribution
from pdplan.schema.arrivals import Poisson
from pdplan.schema.plan import DecodeRouting, Model, Plan, PrefillRouting
from pdplan.schema.profile import Profile
from pdplan.schema.workload import SLO, Workload
from pdplan.sim.config import MAX_SIM_INSTANCES
from pdplan.traffic.summary import TraceSummary, summarize_trace

__all__ = ["TracePlan", "plan_trace"]

OnProbe = Callable[[str], None]


class TracePlan(BaseModel):
    """The answer of ``pdplan size --trace``."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)
    model: Model
    workload: Workload
    slo: SLO
    slo_window_s: float | None
    trace: TraceSummary
    allocation: ReplayResult = Field(description="the recommendation, checked by replay")
    analytic_allocation: AnalyticAllocation
    mean_rate_allocation: ReplayResult = Field(
        description="what planning on the mean rate (Poisson) buys, replayed"
    )
    mean_rate_plan: Plan = Field(exclude=True)
    searched: list[ReplayResult] = Field(description="every allocation replayed, in order")
    warnings: list[str]

    @property
    def replay(self) -> ReplayResult:
        return self.allocation


def _zero_load_check(profile: Profile, workload: Workload, slo: SLO) -> None:
    """Refuse a TTFT objective that the trace's own requests miss with no queueing at all."""
    assert workload.trace is not None
    keep = 1 - workload.prefix_hit_rate
    overhead = profile.prefill.overhead_s
    cache: dict[int, float] = {}
    values = []
    for isl in workload.trace.isl_tokens:
        t = cache.get(isl)
        if t is None:
            t = cache[isl] = overhead + prefill_time_s(profile.prefill, isl * keep)
        values.append(t)
    floor = Distribution.of(values)
    assert floor is not None
    best = floor.stat(slo.ttft_stat)
    if best > slo.ttft_s:
        raise InfeasibleSLOError(
            f"{slo.ttft_stat} TTFT SLO {slo.ttft_s:.4g} s cannot be met on this trace by any "
            f"number of prefill instances: with no queueing at all, the trace's own prompts give "
            f"a {slo.ttft_stat} TTFT of {best:.4g} s (overhead {overhead:.4g} s + prefill); set "
            f"the TTFT SLO above {best:.4g} s",
            field="ttft",
            achievable=best,
        )


class _Replays:
    """Replays by allocation, each run once; ``order`` keeps them in the order tried."""

    def __init__(self, replay_one: Callable[[int, int], ReplayResult], on_probe: OnProbe | None):
        self.replay_one, self.on_probe = replay_one, on_probe
        self.tried: dict[tuple[int, int], ReplayResult] = {}
        self.order: list[ReplayResult] = []

    def __call__(self, m: int, n: int) -> ReplayResult:
        if (m, n) not in self.tried:
            if self.on_probe is not None:
                self.on_probe(f"replaying {m}P{n}D")
            self.tried[(m, n)] = self.replay_one(m, n)
            self.order.append(self.tried[(m, n)])
        return self.tried[(m, n)]


def _search(run: _Replays, analytic: AnalyticAllocation, slo: SLO) -> ReplayResult:
    """From the analytic answer: the smallest prefill count whose replay meets the TTFT
    objective (TTFT does not depend on decode), then the smallest decode count meeting TPOT."""
    n0 = analytic.decode_instances
    m = smallest_checked(
        lambda k: run(k, n0).ttft_met, analytic.prefill_instances, MAX_SIM_INSTANCES
    )
    if m is None:
        raise InfeasibleSLOError(
            f"no prefill count up to {MAX_SIM_INSTANCES} meets the {slo.ttft_stat} TTFT SLO "
            f"{slo.ttft_s:.4g} s on this replay",
            field="ttft",
            achievable=0.0,
        )
    n = smallest_checked(lambda k: run(m, k).tpot_met, n0, MAX_SIM_INSTANCES)
    if n is None:
        raise InfeasibleSLOError(
            f"no decode count up to {MAX_SIM_INSTANCES} meets the {slo.tpot_stat} TPOT SLO "
            f"{slo.tpot_s * 1e3:.4g} ms on this replay",
            field="tpot",
            achievable=0.0,
        )
    return run(m, n)


def plan_trace(
    profile: Profile,
    workload: Workload,
    slo: SLO,
    *,
    model: Model = "auto",
    prefill_routing: PrefillRouting = "random",
    decode_routing: DecodeRouting = "least_loaded",
    slo_window_s: float | None = None,
    window_s: float = PSA_WINDOW_S,
    seed: int = 42,
    on_probe: OnProbe | None = None,
) -> TracePlan:
    """The smallest allocation whose replay of the workload's trace meets the SLOs.

    :param workload: a trace replay (:meth:`Workload.from_trace`)
    :param slo_window_s: the SLO statistic must hold in every window of this length
    :raises InfeasibleSLOError: when no allocation meets an SLO

    >>> import random
    >>> from pdplan import SLO, Workload, default_profile
    >>> from pdplan.schema.trace import Trace
    >>> rng = random.Random(1)
    >>> times = sorted(rng.uniform(0, 600) for _ in range(600))
    >>> w = Workload.from_trace(Trace(tuple(times), (6144,) * 600, (512,) * 600), time_scale=10)
    >>> tp = plan_trace(default_profile(), w, SLO(ttft_s=2, tpot_s=0.02), model="paper")
    >>> tp.allocation.allocation, tp.analytic_allocation.allocation, [
    ...     r.allocation for r in tp.searched]
    ('3P3D', '3P4D', ...)
    """
    if not workload.replays_trace or workload.trace is None:
        raise ConfigError("plan_trace plans a trace replay: build the workload from a trace")
    if slo_window_s is not None and not slo_window_s > 0:
        raise ConfigError(f"SLO window must be > 0 s, got {slo_window_s}")
    _zero_load_check(profile, workload, slo)
    mean_rate = workload.model_copy(update={"arrivals": Poisson()})
    routing = {"prefill_routing": prefill_routing, "decode_routing": decode_routing}
    mean_plan = size(profile, mean_rate, slo, model=model, **routing)  # type: ignore[arg-type]
    # the replays use the plan's routing and engine variability, on the trace itself
    replay_plan = mean_plan.model_copy(update={"workload": workload})
    analytic = analytic_allocation(
        profile,
        workload,
        slo,
        model=model,
        prefill_routing=prefill_routing,
        decode_routing=decode_routing,
        window_s=window_s,
        slo_window_s=slo_window_s,
        gpus=lambda m, n: gpus_of(replay_plan, m, n),
    )
    run = _Replays(
        lambda m, n: replay(profile, replay_plan, m, n, slo_window_s=slo_window_s, seed=seed),
        on_probe,
    )
    chosen = _search(run, analytic, slo)
    mean_alloc = mean_plan.allocation
    mean_replay = run(mean_alloc.prefill_instances, mean_alloc.decode_instances)
    warnings = list(mean_plan.warnings)
    if not chosen.meets_slo:  # TTFT and TPOT searched apart; say so if the pair misses
        warnings.append(
            f"{chosen.allocation} meets each objective where it was searched but not both on "
            "one replay: treat it as a lower bound"
        )
    return TracePlan(
        model=model,
        workload=workload,
        slo=slo,
        slo_window_s=slo_window_s,
        trace=summarize_trace(workload.trace, workload.time_scale or 1.0),
        allocation=chosen,
        analytic_allocation=analytic,
        mean_rate_allocation=mean_replay,
        mean_rate_plan=mean_plan,
        searched=run.order,
        warnings=warnings,
    )
