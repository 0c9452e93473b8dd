"""The counts one planning step needs on its own: the step's requests (and a warm-up before
it, so that queues and decode batches are built when the step starts) replayed on static
allocations, judged on the SLO windows inside the step. Pure; each step is one independent
task (:func:`size_step`), so a ``map`` runs them in worker processes or on a Ray cluster with
the same results.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

from pdplan.capacity.pool import smallest
from pdplan.errors import ConfigError, InfeasibleSLOError
from pdplan.plan.rate import size
from pdplan.plan.schedule.local import LocalVerdict, ReplaySetup, replay_part
from pdplan.schema.arrivals import MAX_ARRIVAL_SCV, Gamma
from pdplan.schema.trace import Trace
from pdplan.schema.workload import Workload
from pdplan.sim.service import ServiceModel

__all__ = ["WARMUP_S", "ReplaySetup", "StepSize", "StepTask", "size_step", "step_tasks"]

#: Requests before a step that its replay includes: long enough for the decode batches of the
#: step's start to hold what arrived before it (an output of 8,192 tokens at 25 ms is 205 s).
WARMUP_S = 300.0


@dataclass(frozen=True)
class StepTask:
    """One planning step ``[start_s, end_s)`` of the replay's clock, and its requests from
    ``start_s - WARMUP_S`` (times on the replay's clock)."""

    index: int
    start_s: float
    end_s: float
    trace: Trace | None  # None: no request in the step


@dataclass(frozen=True)
class Decided:
    """Why a count is not one lower: the window that misses with one instance fewer."""

    window_start_s: float
    stat_s: float  # the SLO statistic there, with one fewer


@dataclass(frozen=True)
class StepSize:
    """The smallest static counts that meet the SLOs in the step's windows."""

    index: int
    start_s: float
    end_s: float
    requests: int
    prefill_instances: int
    decode_instances: int
    analytic: tuple[int, int] | None
    prefill_decided_by: Decided | None  # None: the minimum count, or the work's
    decode_decided_by: Decided | None
    replays: int
    work: tuple[float, float] = (0.0, 0.0)  # instances the step's work keeps busy, per phase


def step_tasks(trace: Trace, step_s: float) -> list[StepTask]:
    """The steps of ``step_s`` over a trace on the replay's clock (its first request at 0)."""
    times = trace.arrival_s
    count = int(times[-1] // step_s) + 1
    tasks = []
    for k in range(count):
        lo, hi = k * step_s, (k + 1) * step_s
        a = bisect.bisect_left(times, lo - WARMUP_S)
        b = bisect.bisect_left(times, hi)
        has = bisect.bisect_left(times, lo) < b
        part = None
        if has:
            part = Trace(
                times[a:b],
                trace.isl_tokens[a:b],
                trace.osl_tokens[a:b],
                None,
                f"{trace.source}[step {k}]",
                trace.fmt,
            )
        tasks.append(StepTask(k, lo, hi, part))
    return tasks


def _replay(
    setup: ReplaySetup, task: StepTask, m: int, n: int, warm: tuple[int, int] | None
) -> LocalVerdict:
    """The step's replay on mPnD, after a warm-up on ``warm`` (at least mPnD: what the step
    before it serves; the instances it has beyond mPnD drain when the step starts)."""
    assert task.trace is not None
    wm, wn = (m, n) if warm is None else (max(m, warm[0]), max(n, warm[1]))
    steps = [(0.0, wm, wn), (task.start_s, m, n)]
    return replay_part(setup, task.trace, steps, 0.0, task.start_s, task.end_s)


def _guess(
    setup: ReplaySetup, trace: Trace, start_s: float, end_s: float
) -> tuple[int, int] | None:
    """The stationary answer on the requests of ``[start_s, end_s)`` (``pdplan size`` at their
    mean rate, lengths and inter-arrival SCV), or None when it finds no count or no request."""
    lo = bisect.bisect_left(trace.arrival_s, start_s)
    hi = bisect.bisect_left(trace.arrival_s, end_s)
    if hi - lo < 2:
        return None
    own = Trace(trace.arrival_s[lo:hi], trace.isl_tokens[lo:hi], trace.osl_tokens[lo:hi])
    workload = Workload.from_trace(own)
    scv = min(own.interarrival_scv, MAX_ARRIVAL_SCV)
    workload = workload.model_copy(update={"arrivals": Gamma(scv=scv)})
    try:
        plan = size(
            setup.profile,
            workload,
            setup.slo,
            model=setup.model,  # type: ignore[arg-type]
            prefill_routing=setup.cluster.prefill_routing,
            decode_routing=setup.cluster.decode_routing,
        )
    except (InfeasibleSLOError, ConfigError):
        return None
    a = plan.allocation
    return a.prefill_instances, a.decode_instances


def size_step(job: tuple[ReplaySetup, StepTask]) -> StepSize:
    """The smallest (prefill, decode) counts whose replay of the step meets the SLOs in each
    of its windows: prefill on TTFT (which decode does not change), then decode on TPOT.

    :raises InfeasibleSLOError: when even the maximum count misses in the step
    """
    setup, task = job
    lo_p, lo_d = setup.min_instances
    hi_p, hi_d = setup.max_instances
    if task.trace is None:
        return StepSize(task.index, task.start_s, task.end_s, 0, lo_p, lo_d, None, None, None, 0)
    seen: dict[tuple[int, int], LocalVerdict] = {}
    trace = task.trace
    warm = _guess(setup, trace, task.start_s - WARMUP_S, task.start_s)

    def run(m: int, n: int) -> LocalVerdict:
        if (m, n) not in seen:
            seen[(m, n)] = _replay(setup, task, m, n, warm)
        return seen[(m, n)]

    guess = _guess(setup, trace, task.start_s, task.end_s)
    work = _work(setup, task)
    stable = math.floor(work[0]) + 1, math.floor(work[1]) + 1
    lo_p, lo_d = min(max(lo_p, stable[0]), hi_p), min(max(lo_d, stable[1]), hi_d)
    m0, n0 = guess or (lo_p, lo_d)
    m0, n0 = min(max(m0, lo_p), hi_p), min(max(n0, lo_d), hi_d)
    m = _smallest_from(lambda k: run(k, n0).ttft_met, m0, lo_p, hi_p)
    if m is None:
        _infeasible(task, "prefill", hi_p, run(hi_p, n0).worst_ttft, setup.slo.ttft_stat, "TTFT")
    n = _smallest_from(lambda k: run(m, k).tpot_met, n0, lo_d, hi_d)
    if n is None:
        _infeasible(task, "decode", hi_d, run(m, hi_d).worst_tpot, setup.slo.tpot_stat, "TPOT")
    below_p = run(m - 1, n0).worst_ttft if m > lo_p else None
    below_d = run(m, n - 1).worst_tpot if n > lo_d else None
    requests = sum(1 for t in task.trace.arrival_s if t >= task.start_s)
    return StepSize(
        task.index,
        task.start_s,
        task.end_s,
        requests,
        m,
        n,
        guess,
        None if below_p is None else Decided(*below_p),
        None if below_d is None else Decided(*below_d),
        len(seen),
        work,
    )


def _work(setup: ReplaySetup, task: StepTask) -> tuple[float, float]:
    """The instances the step's work keeps busy: prefill servers' compute, decode slots at the
    largest batch the simulator runs. A count must exceed them, or a queue grows for as long as
    the load lasts: slowly enough, with long outputs, that a replay of one step may not see it,
    but the whole replay does."""
    assert task.trace is not None
    t = task.trace
    first = bisect.bisect_left(t.arrival_s, task.start_s)
    isls, osls = t.isl_tokens[first:], t.osl_tokens[first:]
    if not isls:
        return 0.0, 0.0
    cl = setup.cluster
    service = ServiceModel.from_profile(
        setup.profile,
        sum(isls) / len(isls),
        sum(osls) / len(osls),
        cl.decode_max_batch,
        cl.kv_capacity_tokens,
    )
    span = task.end_s - task.start_s
    cache: dict[int, float] = {}
    prefill_s = 0.0
    for isl in isls:
        if isl not in cache:
            cache[isl] = service.prefill_time_s(isl)
        prefill_s += cache[isl]
    servers = service.prefill_servers_per_instance
    cap = service.max_batch
    decode_s = sum(o - 1 for o in osls) * service.tpot_by_batch_s[cap] / cap
    return prefill_s / (span * servers), decode_s / span


def _smallest_from(ok: Callable[[int], bool], start: int, lo: int, hi: int) -> int | None:
    """The smallest count in ``lo..hi`` that is ok (monotone), galloping from ``start``."""
    found = smallest(lambda k: ok(k + lo - 1), start - lo + 1, hi - lo + 1)
    return None if found is None else found + lo - 1


def _infeasible(
    task: StepTask,
    phase: str,
    limit: int,
    worst: tuple[float, float] | None,
    stat: str,
    what: str,
) -> NoReturn:
    achieved = "" if worst is None else f" ({stat} {what} {worst[1]:.4g} s there)"
    raise InfeasibleSLOError(
        f"the step at {task.start_s:g} s needs more than the maximum of {limit} {phase} "
        f"instances to meet the {what} SLO{achieved}: raise --max-{phase} or relax the SLO",
        field=what.lower(),
        achievable=0.0 if worst is None else worst[1],
    )
