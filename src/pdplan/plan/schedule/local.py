"""A part of the trace replayed on counts that change (the schedule's steps around a time),
judged on the SLO windows of a span inside it. Pure: the building block of the step sizing
(:mod:`.segments`) and of the trim (:mod:`.trim`)."""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from pdplan.schema.profile import Profile
from pdplan.schema.schedule import Schedule, ScheduleStep
from pdplan.schema.trace import Trace
from pdplan.schema.workload import SLO, Workload
from pdplan.sim.cluster import run_cluster
from pdplan.sim.config import ClusterConfig, SimConfig
from pdplan.sim.elastic import ElasticControl, ScheduleController
from pdplan.sim.elastic_replay import window_groups
from pdplan.sim.metrics import judge_requests

__all__ = ["LocalVerdict", "ReplaySetup", "part_of", "replay_part"]

Counts = tuple[float, int, int]  # (start_s, prefill, decode) on the replay's clock


@dataclass(frozen=True)
class ReplaySetup:
    """What every replay of one scheduling problem shares."""

    profile: Profile
    cluster: ClusterConfig  # routing and service model; the counts are replaced
    slo: SLO
    window_s: float
    model: str
    seed: int
    min_instances: tuple[int, int]
    max_instances: tuple[int, int]


@dataclass(frozen=True)
class LocalVerdict:
    """Whether the judged windows meet each objective, and the worst window per objective
    (its start on the replay's clock and its statistic)."""

    ttft_met: bool
    tpot_met: bool
    worst_ttft: tuple[float, float] | None
    worst_tpot: tuple[float, float] | None

    @property
    def meets(self) -> bool:
        return self.ttft_met and self.tpot_met


def part_of(trace: Trace, lo_s: float, hi_s: float) -> Trace | None:
    """The requests of ``[lo_s, hi_s)`` (times kept on the trace's clock), or None."""
    a = bisect.bisect_left(trace.arrival_s, lo_s)
    b = bisect.bisect_left(trace.arrival_s, hi_s)
    if a >= b:
        return None
    return Trace(
        trace.arrival_s[a:b],
        trace.isl_tokens[a:b],
        trace.osl_tokens[a:b],
        None,
        f"{trace.source}[{lo_s:g}:{hi_s:g}s]",
        trace.fmt,
    )


def replay_part(
    setup: ReplaySetup,
    part: Trace,
    steps: list[Counts],
    delay_s: float,
    lo_s: float,
    hi_s: float,
) -> LocalVerdict:
    """Replay ``part`` (times on the replay's clock) on ``steps`` (the counts serving from
    each time on, the first at or before the part's first request; scale-ups started
    ``delay_s`` ahead), and judge the windows of the requests arriving in ``[lo_s, hi_s)``."""
    offset = part.arrival_s[0]
    shifted: list[ScheduleStep] = []
    for start, m, n in steps:
        at = max(start - offset, 0.0)
        if shifted and at <= shifted[-1].start_s:
            shifted.pop()  # a later step starting before the part replaces the earlier one
        if not shifted or (shifted[-1].prefill_instances, shifted[-1].decode_instances) != (m, n):
            shifted.append(ScheduleStep(start_s=at, prefill_instances=m, decode_instances=n))
    schedule = Schedule(steps=shifted, scale_up_delay_s=delay_s)
    controller = ScheduleController(schedule)
    m0, n0 = controller.initial()
    cluster = setup.cluster.model_copy(update={"prefill_instances": m0, "decode_instances": n0})
    workload = Workload.from_trace(part)
    config = SimConfig(cluster=cluster, workload=workload, seed=setup.seed, warmup_share=0.0)
    control = None
    if len(shifted) > 1:
        control = ElasticControl(controller, delay_s, setup.profile.prefill.dp_groups)
    columns = run_cluster(setup.profile, config, control).columns
    groups = window_groups(columns.arrival_s, setup.window_s, offset=offset, lo=lo_s, hi=hi_s)
    ttft_ok = tpot_ok = True
    worst_ttft: tuple[float, float] | None = None
    worst_tpot: tuple[float, float] | None = None
    latency = columns.latency_s()
    for key, members in groups.items():
        v = judge_requests(latency, members, setup.slo)
        ttft_ok &= v.ttft_met
        tpot_ok &= v.tpot_met
        start = max(key * setup.window_s, lo_s)
        if v.ttft_s is not None and (worst_ttft is None or v.ttft_s > worst_ttft[1]):
            worst_ttft = (start, v.ttft_s)
        if v.tpot_s is not None and (worst_tpot is None or v.tpot_s > worst_tpot[1]):
            worst_tpot = (start, v.tpot_s)
    return LocalVerdict(ttft_ok, tpot_ok, worst_ttft, worst_tpot)
