"""The answer of ``pdplan schedule``: the cheapest scaling schedule whose replay meets the SLOs
in every window. Pure (planner + simulator); ``map_fn`` runs the independent step sizings
(e.g. in worker processes), ``on_progress`` lets a caller show progress.

1. **Each step on its own** (:mod:`.segments`): from the analytic answer on the step's
   requests, the smallest static counts whose replay of the step (with a warm-up before it)
   meets the SLOs in its windows.
2. **The whole replay**: the steps as a :class:`~pdplan.schema.schedule.Schedule`, each scale-up
   started ``scale_up_delay_s`` ahead of its step, replayed from the start of the trace to its
   end. A window that misses raises the phase that missed in the steps it overlaps (and, when
   that is not enough, in the step before it: a backlog comes from before), until every window
   meets.
3. **The static references** on the same replay: the smallest static allocation that meets
   every window (what ``size --trace --slo-window`` answers).
"""

from __future__ import annotations

import random
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field

from pdplan.errors import ConfigError
from pdplan.plan.autoscale.judge import PolicyRow, capacity_of, policy_jobs, row_of, search_policy
from pdplan.plan.autoscale.policies import Capacity
from pdplan.plan.rate import size
from pdplan.plan.schedule.segments import (
    Decided,
    ReplaySetup,
    StepSize,
    size_step,
    step_tasks,
)
from pdplan.plan.schedule.trim import stride, trim_step, trim_tasks
from pdplan.plan.schedule.whole import (
    StepCounts,
    by,
    executed,
    merged,
    repair,
    replay_schedule,
    static_reference,
)
from pdplan.plan.verify import cluster_for
from pdplan.schema.arrivals import Poisson
from pdplan.schema.plan import DecodeRouting, Model, PrefillRouting
from pdplan.schema.profile import Profile
from pdplan.schema.schedule import Schedule
from pdplan.schema.trace import Trace
from pdplan.schema.workload import SLO, Workload
from pdplan.sim.capacity import MapFn
from pdplan.sim.config import MAX_SIM_INSTANCES, SimConfig
from pdplan.sim.elastic_replay import ElasticReplay

__all__ = ["SchedulePlan", "StepRow", "plan_schedule", "replay_schedule"]

OnProgress = Callable[[str], None]


class StepRow(BaseModel):
    """One planning step of the schedule, and why its counts are what they are."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    start_s: float
    end_s: float
    requests: int
    rate_rps: float
    prefill_instances: int
    decode_instances: int
    analytic: str | None = Field(description="the analytic first guess on the step's requests")
    prefill_decided_by: str | None = Field(
        description="why not one prefill instance fewer: the window that misses with one fewer "
        "and its SLO statistic there ('(whole)': found on the whole replay, else on the "
        "replay around the step), or 'work W': the step's work keeps W instances busy, or "
        "'held for the next step' (None: the minimum count)"
    )
    decode_decided_by: str | None = Field(
        description="why not one decode instance fewer (as prefill_decided_by)"
    )


class SchedulePlan(BaseModel):
    """The answer of ``pdplan schedule``."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)
    slo: SLO
    step_s: float
    slo_window_s: float
    scale_up_delay_s: float
    schedule: Schedule = Field(description="steps of equal counts merged")
    steps: list[StepRow]
    replay: ElasticReplay = Field(description="the schedule's replay, window by window")
    static: ElasticReplay = Field(description="the smallest static allocation meeting every window")
    static_allocation: str
    repairs: int = Field(description="whole-replay rounds that raised a count")
    step_replays: int = Field(description="step replays of the per-step search")
    policies: list[PolicyRow] = Field(
        description="the static reference, the schedule and each autoscaling policy at its "
        "cheapest safe setting, on the same replay"
    )
    capacity: Capacity = Field(
        description="one instance's throughput as the policies see it (from the profile)"
    )
    profile: Profile = Field(exclude=True)
    config: SimConfig = Field(exclude=True, description="the replays' workload and cluster")

    def replay_other(self, schedule: Schedule) -> ElasticReplay:
        """Another schedule's replay of the same trace, judged the same way."""
        return replay_schedule(self.profile, self.config, schedule, self.slo, self.slo_window_s)

    @property
    def saving(self) -> float:
        """The share of the static allocation's GPU-hours that the schedule saves."""
        return 1 - self.replay.gpu_hours / self.static.gpu_hours


def _busy(count: int, work: float, least: int) -> str | None:
    """Why a count no window decided is not lower: the step's work needs it (or None: the
    minimum)."""
    if count <= least or count != int(work) + 1:
        return None
    return f"work {work:.2f}"


def plan_schedule(
    profile: Profile,
    workload: Workload,
    slo: SLO,
    *,
    step_s: float = 600.0,
    slo_window_s: float | None = None,
    scale_up_delay_s: float = 180.0,
    min_instances: tuple[int, int] = (1, 1),
    max_instances: tuple[int, int] = (MAX_SIM_INSTANCES, MAX_SIM_INSTANCES),
    model: Model = "auto",
    prefill_routing: PrefillRouting = "random",
    decode_routing: DecodeRouting = "least_loaded",
    seed: int = 42,
    policies: bool = True,
    interval_s: float = 180.0,
    map_fn: MapFn = map,
    on_progress: OnProgress | None = None,
) -> SchedulePlan:
    """The cheapest schedule of ``step_s`` steps whose replay meets the SLOs in every window of
    ``slo_window_s`` (default: the step), with scale-ups that serve ``scale_up_delay_s`` after
    they start (see the module docstring).

    :param workload: a trace replay (:meth:`Workload.from_trace`)
    :param policies: also judge the autoscaling policies (:mod:`pdplan.plan.autoscale`) on
        the same replay, each at its cheapest safe setting; ``interval_s`` is the throughput
        policy's adjustment interval
    :raises InfeasibleSLOError: when a step needs more than ``max_instances``
    :raises ConfigError: on a step, window or delay that does not fit the trace
    """
    if not workload.replays_trace or workload.trace is None:
        raise ConfigError("a schedule plans a trace replay: build the workload from a trace")
    window_s = step_s if slo_window_s is None else slo_window_s
    trace = workload.requests(0, random.Random(seed))  # the replay's clock
    span_s = trace.arrival_s[-1]
    _check(step_s, window_s, scale_up_delay_s, span_s, min_instances, max_instances)
    say = on_progress or (lambda _: None)
    mean_rate = workload.model_copy(update={"arrivals": Poisson()})
    routing = {"prefill_routing": prefill_routing, "decode_routing": decode_routing}
    plan = size(profile, mean_rate, slo, model=model, **routing)  # type: ignore[arg-type]
    cluster = cluster_for(plan, 1, 1)
    setup = ReplaySetup(profile, cluster, slo, window_s, model, seed, min_instances, max_instances)
    tasks = step_tasks(trace, step_s)
    say(f"sizing {len(tasks)} steps of {step_s:g} s on their own")
    sizes: list[StepSize] = list(map_fn(size_step, [(setup, t) for t in tasks]))
    counts = [
        StepCounts(
            s.prefill_instances,
            s.decode_instances,
            by(s.prefill_decided_by, "TTFT", 1.0, "s")
            or _busy(s.prefill_instances, s.work[0], min_instances[0]),
            by(s.decode_decided_by, "TPOT", 1e3, "ms")
            or _busy(s.decode_instances, s.work[1], min_instances[1]),
        )
        for s in sizes
    ]
    config = SimConfig(cluster=cluster, workload=workload, seed=seed, warmup_share=0.0)
    counts = _trim(setup, trace, counts, step_s, window_s, scale_up_delay_s, map_fn, say)
    counts = executed(counts, step_s, scale_up_delay_s)
    counts, replay, repairs = repair(
        profile, config, slo, counts, step_s, window_s, scale_up_delay_s, max_instances, say
    )
    counts = executed(counts, step_s, scale_up_delay_s)
    static, static_replay = static_reference(
        profile, config, slo, counts, window_s, max_instances, say
    )
    rows_ = [
        row_of(f"static {static[0]}P{static[1]}D", static_replay, slo),
        row_of("schedule", replay, slo),
    ]
    capacity = capacity_of(profile, plan)
    if policies:
        jobs = policy_jobs(
            profile,
            config,
            slo,
            window_s=window_s,
            delay_s=scale_up_delay_s,
            capacity=capacity,
            initial=(counts[0].prefill, counts[0].decode),
            min_instances=min_instances,
            max_instances=max_instances,
            interval_s=interval_s,
        )
        say(f"searching {len(jobs)} autoscaling policies' settings on the replay")
        rows_.extend(map_fn(search_policy, jobs))
    rows = [
        StepRow(
            start_s=s.start_s,
            end_s=s.end_s,
            requests=s.requests,
            rate_rps=s.requests / step_s,
            prefill_instances=c.prefill,
            decode_instances=c.decode,
            analytic=None if s.analytic is None else f"{s.analytic[0]}P{s.analytic[1]}D",
            prefill_decided_by=c.prefill_by,
            decode_decided_by=c.decode_by,
        )
        for s, c in zip(sizes, counts, strict=True)
    ]
    return SchedulePlan(
        slo=slo,
        step_s=step_s,
        slo_window_s=window_s,
        scale_up_delay_s=scale_up_delay_s,
        schedule=merged(counts, step_s, scale_up_delay_s),
        steps=rows,
        replay=replay,
        static=static_replay,
        static_allocation=f"{static[0]}P{static[1]}D",
        repairs=repairs,
        step_replays=sum(s.replays for s in sizes),
        policies=rows_,
        capacity=capacity,
        profile=profile,
        config=config,
    )


def _trim(
    setup: ReplaySetup,
    trace: Trace,
    counts: list[StepCounts],
    step_s: float,
    window_s: float,
    delay_s: float,
    map_fn: MapFn,
    say: OnProgress,
) -> list[StepCounts]:
    """Each step's counts lowered while the replay around it, with its neighbours, meets
    (:mod:`.trim`), in rounds of steps far enough apart to run at once."""
    every = stride(step_s, window_s)
    counts = list(counts)
    for r in range(min(every, len(counts))):
        current = [(c.prefill, c.decode) for c in counts]
        indices = list(range(r, len(counts), every))
        tasks = trim_tasks(trace, current, indices, step_s, window_s, delay_s)
        say(f"trimming with the neighbours' counts: round {r + 1} of {every}")
        for t in map_fn(trim_step, [(setup, task) for task in tasks]):
            c = counts[t.index]
            counts[t.index] = StepCounts(
                t.prefill,
                t.decode,
                by(None if t.prefill_by is None else Decided(*t.prefill_by), "TTFT", 1.0, "s")
                or (c.prefill_by if t.prefill == c.prefill else None),
                by(None if t.decode_by is None else Decided(*t.decode_by), "TPOT", 1e3, "ms")
                or (c.decode_by if t.decode == c.decode else None),
            )
    return counts


def _check(
    step_s: float,
    window_s: float,
    delay_s: float,
    span_s: float,
    lo: tuple[int, int],
    hi: tuple[int, int],
) -> None:
    if not 60 <= step_s <= 86_400:
        raise ConfigError(f"--step must be 1 min to 1 day, got {step_s:g} s")
    if not 10 <= window_s <= 86_400:
        raise ConfigError(f"--slo-window must be 10 s to 1 day, got {window_s:g} s")
    if not 0 <= delay_s <= 86_400:
        raise ConfigError(f"--scale-up-delay must be 0 s to 1 day, got {delay_s:g} s")
    if delay_s >= span_s:
        raise ConfigError(
            f"--scale-up-delay {delay_s:g} s is not shorter than the trace ({span_s:.6g} s from "
            "its first request): no scale-up would serve before it ends"
        )
    if step_s > span_s:
        raise ConfigError(
            f"--step {step_s:g} s is longer than the trace ({span_s:.6g} s): a schedule of one "
            "step is the static plan (pdplan size --trace)"
        )
    for phase, a, b in (("prefill", lo[0], hi[0]), ("decode", lo[1], hi[1])):
        if not 1 <= a <= b <= MAX_SIM_INSTANCES:
            raise ConfigError(
                f"--min-{phase} {a} and --max-{phase} {b}: need 1 <= min <= max <= "
                f"{MAX_SIM_INSTANCES}"
            )
