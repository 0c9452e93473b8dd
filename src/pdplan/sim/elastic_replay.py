"""A replay with changing allocations (a schedule, or an autoscaling policy), reported window by
window: the requests that arrived in each window, their TTFT and TPOT statistics against the
SLOs (the one verdict, :func:`pdplan.schema.verdict.judge`), and the GPU-hours paid in it
(an instance is paid from its start to the end of its drain). Pure."""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field

from pdplan.schema.profile import Profile
from pdplan.schema.workload import SLO
from pdplan.sim.cluster import run_cluster
from pdplan.sim.config import SimConfig
from pdplan.sim.elastic import Controller, ElasticControl, Interval, ScalingEvent
from pdplan.sim.metrics import Columns, SimResult, judge_requests, summarize_run

__all__ = ["ElasticReplay", "WindowRow", "simulate_elastic", "window_groups", "window_rows"]

_CONFIG = ConfigDict(extra="forbid", frozen=True)


class WindowRow(BaseModel):
    """One SLO window of a replay."""

    model_config = _CONFIG
    start_s: float
    end_s: float
    requests: int = Field(description="requests that arrived in the window")
    ttft_s: float | None = Field(description="the SLO's TTFT statistic (None: no request)")
    tpot_s: float | None = Field(description="the SLO's TPOT statistic (None: none decodes)")
    ttft_met: bool
    tpot_met: bool
    meets: bool
    prefill_instances: float = Field(description="mean prefill instances paid in the window")
    decode_instances: float = Field(description="mean decode instances paid in the window")
    gpu_hours: float


class ElasticReplay(BaseModel):
    """What a changing allocation delivered over a replay."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)
    result: SimResult = Field(description="over the whole replay")
    windows: list[WindowRow]
    gpu_hours: float
    prefill_gpu_hours: float
    decode_gpu_hours: float
    scaling_events: int = Field(description="changes of a phase's target count")
    result_end_s: float = Field(description="the last completion: where paying stops")
    events: list[ScalingEvent] = Field(exclude=True)
    window_s: float

    @property
    def meets_slo(self) -> bool:
        """Every window meets the SLOs."""
        return all(w.meets for w in self.windows)

    @property
    def failed_windows(self) -> list[WindowRow]:
        return [w for w in self.windows if not w.meets]


def window_groups(
    arrival_s: list[float],
    window_s: float,
    *,
    offset: float = 0.0,
    lo: float = -math.inf,
    hi: float = math.inf,
) -> dict[int, list[int]]:
    """The requests of each SLO window ``[k w, (k + 1) w)`` (by index ``k``), at times
    ``arrival_s + offset``, of those that arrive in ``[lo, hi)``.

    >>> window_groups([0.0, 5.0, 12.0, 25.0], 10.0, offset=1.0, lo=5.0)
    {0: [1], 1: [2], 2: [3]}
    """
    groups: dict[int, list[int]] = {}
    for i, t in enumerate(arrival_s):
        t += offset
        if lo <= t < hi:
            groups.setdefault(int(t // window_s), []).append(i)
    return groups


def window_rows(
    columns: Columns,
    slo: SLO,
    window_s: float,
    intervals: list[Interval],
    gpus: tuple[int, int],
    end_s: float,
) -> list[WindowRow]:
    """The windows ``[k w, (k + 1) w)`` of the replay's clock, up to its last arrival.

    >>> c = Columns([0.0, 1.0, 11.0], [10] * 3, [3] * 3, [0.0, 1.0, 11.0], [0.5, 1.5, 14.0],
    ...             [0.7, 1.7, 14.2])
    >>> rows = window_rows(c, SLO(ttft_s=2, tpot_s=1), 10.0,
    ...                    [Interval("prefill", 0, None), Interval("decode", 0, None)], (1, 1), 20)
    >>> [(r.requests, r.meets, r.gpu_hours * 3600) for r in rows]
    [(2, True, 20.0), (1, False, 20.0)]
    """
    last = max(columns.arrival_s, default=0.0)
    count = max(1, math.floor(last / window_s) + 1)
    groups = window_groups(columns.arrival_s, window_s)
    latency = columns.latency_s()
    rows = []
    for k in range(count):
        idx = groups.get(k, [])
        lo, hi = k * window_s, (k + 1) * window_s
        paid = {"prefill": 0.0, "decode": 0.0}
        for iv in intervals:
            end = end_s if iv.end_s is None else iv.end_s
            paid[iv.phase] += max(0.0, min(end, hi) - max(iv.start_s, lo))
        verdict = judge_requests(latency, idx, slo)
        rows.append(
            WindowRow(
                start_s=lo,
                end_s=hi,
                requests=len(idx),
                ttft_s=verdict.ttft_s,
                tpot_s=verdict.tpot_s,
                ttft_met=verdict.ttft_met,
                tpot_met=verdict.tpot_met,
                meets=verdict.meets or not idx,
                prefill_instances=paid["prefill"] / window_s,
                decode_instances=paid["decode"] / window_s,
                gpu_hours=(paid["prefill"] * gpus[0] + paid["decode"] * gpus[1]) / 3600,
            )
        )
    return rows


def simulate_elastic(
    profile: Profile,
    config: SimConfig,
    controller: Controller,
    slo: SLO,
    *,
    scale_up_delay_s: float,
    window_s: float,
) -> ElasticReplay:
    """Replay ``config``'s workload with ``controller`` deciding the counts (the cluster's
    counts are replaced by the controller's initial ones; its routing and service model kept).
    """
    p0, d0 = controller.initial()
    cluster = config.cluster.model_copy(update={"prefill_instances": p0, "decode_instances": d0})
    config = config.model_copy(update={"cluster": cluster, "warmup_share": 0.0})
    control = ElasticControl(controller, scale_up_delay_s, profile.prefill.dp_groups)
    run = run_cluster(profile, config, control)
    end_s = run.end_s
    intervals = control.intervals(end_s)
    gpus = (profile.prefill.gpus_per_instance, profile.decode.gpus_per_instance)
    rows = window_rows(run.columns, slo, window_s, intervals, gpus, end_s)
    paid = {"prefill": 0.0, "decode": 0.0}
    for iv in intervals:
        paid[iv.phase] += (end_s if iv.end_s is None else iv.end_s) - iv.start_s
    result = summarize_run(
        run.columns,
        warmup_share=0.0,
        slo=slo,
        prefill_busy_s=run.prefill.busy_time,
        decode_occupancy=run.decode.occupancy,
        end_s=end_s,
        keep_records=False,
        prefill_service_scv=run.scv,
        offered_rps=None if config.workload.replays_trace else config.workload.rate_rps,
    )
    return ElasticReplay(
        result=result,
        windows=rows,
        gpu_hours=(paid["prefill"] * gpus[0] + paid["decode"] * gpus[1]) / 3600,
        prefill_gpu_hours=paid["prefill"] * gpus[0] / 3600,
        decode_gpu_hours=paid["decode"] * gpus[1] / 3600,
        scaling_events=len(control.events_log),
        result_end_s=end_s,
        events=control.events_log,
        window_s=window_s,
    )
