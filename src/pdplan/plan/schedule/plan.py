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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from pydantic import BaseModel, ConfigDict, Field

from pdplan.errors import ConfigError, InfeasibleSLOError
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
from pdplan.plan.verify import cluster_for
from pdplan.schema.arrivals import Poisson
from pdplan.schema.plan import DecodeRouting, Model, PrefillRouting
from pdplan.schema.profile import Profile
from pdplan.schema.schedule import Schedule, ScheduleStep
from pdplan.schema.workload import SLO, Workload
from pdplan.sim.capacity import MapFn
from pdplan.sim.config import MAX_SIM_INSTANCES, SimConfig
from pdplan.sim.elastic import ScheduleController
from pdplan.sim.elastic_replay import ElasticReplay, simulate_elastic
from pdplan.units import fmt_clock

__all__ = ["SchedulePlan", "StepRow", "plan_schedule", "replay_schedule"]

OnProgress = Callable[[str], None]
#: Rounds of whole-replay repair before giving up.
MAX_REPAIRS = 40


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
        "and its SLO statistic there ('(day)': on the whole replay, else on the step's own), "
        "or 'work W': the step's work keeps W instances busy (None: the minimum count)"
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


@dataclass
class _Counts:
    prefill: int
    decode: int
    prefill_by: str | None
    decode_by: str | None


def _by(d: Decided | None, what: str, unit: float, suffix: str) -> str | None:
    """The window that misses with one instance fewer: ``"18:20 TTFT 2.4 s"``."""
    if d is None:
        return None
    return f"{fmt_clock(d.window_start_s)} {what} {d.stat_s * unit:.3g} {suffix}"


def _busy(count: int, work: float, least: int) -> str | None:
    """Why a count no window decided is not lower: the step's work needs it (or None: the
    minimum)."""
    if count <= least or count != int(work) + 1:
        return None
    return f"work {work:.2f}"


def _merged(counts: list[_Counts], step_s: float, delay_s: float) -> Schedule:
    steps: list[ScheduleStep] = []
    for k, c in enumerate(counts):
        if steps and (steps[-1].prefill_instances, steps[-1].decode_instances) == (
            c.prefill,
            c.decode,
        ):
            continue
        steps.append(
            ScheduleStep(start_s=k * step_s, prefill_instances=c.prefill, decode_instances=c.decode)
        )
    return Schedule(steps=steps, scale_up_delay_s=delay_s)


def replay_schedule(
    profile: Profile,
    config: SimConfig,
    schedule: Schedule,
    slo: SLO,
    window_s: float,
) -> ElasticReplay:
    """A schedule's replay of ``config``'s workload, window by window."""
    return simulate_elastic(
        profile,
        config,
        ScheduleController(schedule),
        slo,
        scale_up_delay_s=schedule.scale_up_delay_s,
        window_s=window_s,
    )


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
        _Counts(
            s.prefill_instances,
            s.decode_instances,
            _by(s.prefill_decided_by, "TTFT", 1.0, "s")
            or _busy(s.prefill_instances, s.work[0], min_instances[0]),
            _by(s.decode_decided_by, "TPOT", 1e3, "ms")
            or _busy(s.decode_instances, s.work[1], min_instances[1]),
        )
        for s in sizes
    ]
    config = SimConfig(cluster=cluster, workload=workload, seed=seed, warmup_share=0.0)
    counts, replay, repairs = _repair(
        profile, config, slo, counts, step_s, window_s, scale_up_delay_s, max_instances, say
    )
    static, static_replay = _static(profile, config, slo, counts, window_s, max_instances, say)
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
        schedule=_merged(counts, step_s, scale_up_delay_s),
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


def _steps_of(start_s: float, end_s: float, step_s: float, count: int) -> Iterable[int]:
    first = max(int(start_s // step_s), 0)
    last = min(int((end_s - 1e-9) // step_s), count - 1)
    return range(first, last + 1)


def _repair(
    profile: Profile,
    config: SimConfig,
    slo: SLO,
    counts: list[_Counts],
    step_s: float,
    window_s: float,
    delay_s: float,
    hi: tuple[int, int],
    say: OnProgress,
) -> tuple[list[_Counts], ElasticReplay, int]:
    """Replay the whole schedule; raise the phase that missed in the steps of the first window
    of each run of failing windows (and in the step before, on a window that failed before)
    until every window meets."""
    failed_before: set[tuple[int, str]] = set()
    for rounds in range(MAX_REPAIRS + 1):
        schedule = _merged(counts, step_s, delay_s)
        say(f"replaying the schedule ({len(schedule.steps)} changes)")
        replay = replay_schedule(profile, config, schedule, slo, window_s)
        failed = replay.failed_windows
        if not failed:
            return counts, replay, rounds
        if rounds == MAX_REPAIRS:
            break
        raised: set[tuple[int, str]] = set()
        met_before = {w.start_s + window_s: w.meets for w in replay.windows}
        # the first window of each run of misses: the ones after it may only be its backlog
        for w in (w for w in failed if met_before.get(w.start_s, True)):
            for phase, met, stat, scale in (
                ("prefill", w.ttft_met, w.ttft_s, 1.0),
                ("decode", w.tpot_met, w.tpot_s, 1e3),
            ):
                if met:
                    continue
                k = int(w.start_s // window_s)
                steps = list(_steps_of(w.start_s, w.end_s, step_s, len(counts)))
                if (k, phase) in failed_before and steps[0] > 0:
                    steps.insert(0, steps[0] - 1)
                failed_before.add((k, phase))
                what = "TTFT" if phase == "prefill" else "TPOT"
                unit = "s" if phase == "prefill" else "ms"
                note = f"{fmt_clock(w.start_s)} {what} {(stat or 0.0) * scale:.3g} {unit} (day)"
                for j in steps:
                    if (j, phase) in raised:
                        continue
                    raised.add((j, phase))
                    c = counts[j]
                    limit = hi[0] if phase == "prefill" else hi[1]
                    if (c.prefill if phase == "prefill" else c.decode) >= limit:
                        raise InfeasibleSLOError(
                            f"the window at {fmt_clock(w.start_s)} misses its {what} SLO on the "
                            f"whole replay with the maximum of {limit} {phase} instances: "
                            f"raise --max-{phase}, shorten --scale-up-delay or relax the SLO",
                            field=what.lower(),
                            achievable=stat or 0.0,
                        )
                    counts[j] = (
                        replace(c, prefill=c.prefill + 1, prefill_by=note)
                        if phase == "prefill"
                        else replace(c, decode=c.decode + 1, decode_by=note)
                    )
    first = fmt_clock(replay.failed_windows[0].start_s)
    raise InfeasibleSLOError(
        f"the schedule still misses {len(replay.failed_windows)} window(s) after "
        f"{MAX_REPAIRS} rounds of repair (the first at {first})",
        field="ttft",
        achievable=0.0,
    )


def _static(
    profile: Profile,
    config: SimConfig,
    slo: SLO,
    counts: list[_Counts],
    window_s: float,
    hi: tuple[int, int],
    say: OnProgress,
) -> tuple[tuple[int, int], ElasticReplay]:
    """The smallest static allocation that meets every window: at least the most any step
    needs on its own, raised on the phase that misses until the whole replay meets."""
    m, n = max(c.prefill for c in counts), max(c.decode for c in counts)
    while True:
        say(f"replaying the static {m}P{n}D")
        replay = replay_schedule(profile, config, Schedule.static(m, n), slo, window_s)
        failed = replay.failed_windows
        if not failed:
            return (m, n), replay
        ttft = any(not w.ttft_met for w in failed)
        tpot = any(not w.tpot_met for w in failed)
        if (ttft and m >= hi[0]) or (tpot and n >= hi[1]):
            raise InfeasibleSLOError(
                "no static allocation within --max-prefill/--max-decode meets every window",
                field="ttft" if ttft else "tpot",
                achievable=0.0,
            )
        m, n = m + ttft, n + tpot
