"""Each step's counts lowered while the replay around it, with its neighbours' counts and the
scale-up delay, still meets the SLOs: the step sized on its own is a first answer; with the
steps around it (a warm-up served by the real step before, a backlog left to the step after)
it may need fewer, or the windows after it may need it to keep more. Pure; the steps of one
round are far enough apart not to see each other's changes, so a ``map`` runs them in worker
processes or on a Ray cluster with the same results.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pdplan.plan.schedule.local import Counts, ReplaySetup, part_of, replay_part
from pdplan.plan.schedule.segments import WARMUP_S
from pdplan.schema.trace import Trace

__all__ = ["TrimTask", "Trimmed", "stride", "trim_step", "trim_tasks"]


@dataclass(frozen=True)
class TrimTask:
    """One step, the counts around it, and the part of the trace its replay needs."""

    index: int
    at: int  # the step's position in ``steps``
    part: Trace
    steps: list[Counts]
    delay_s: float
    judge_lo_s: float
    judge_hi_s: float


@dataclass(frozen=True)
class Trimmed:
    """The step's lowest counts that still meet, and why not one fewer (the window that then
    misses, and its statistic; None: at the minimum)."""

    index: int
    prefill: int
    decode: int
    prefill_by: tuple[float, float] | None
    decode_by: tuple[float, float] | None
    replays: int


def _span(k: int, step_s: float, window_s: float, end_s: float) -> tuple[float, float]:
    """The windows a change of step ``k`` can move: its own, and the next step's."""
    lo = math.floor(k * step_s / window_s) * window_s
    hi = min(math.ceil((k + 2) * step_s / window_s) * window_s, end_s)
    return lo, hi


def stride(step_s: float, window_s: float) -> int:
    """Steps between two trimmed in one round: one's replay (its warm-up, its windows) does
    not reach the other's step."""
    lo, hi = _span(0, step_s, window_s, math.inf)
    return math.ceil((hi - lo + WARMUP_S) / step_s) + 1


def trim_tasks(
    trace: Trace,
    counts: list[tuple[int, int]],
    indices: list[int],
    step_s: float,
    window_s: float,
    delay_s: float,
) -> list[TrimTask]:
    """The tasks of the steps ``indices`` (on the current counts), steps with no request in
    their span left out."""
    end_s = trace.arrival_s[-1] + 1e-9
    tasks = []
    for k in indices:
        lo, hi = _span(k, step_s, window_s, end_s)
        part = part_of(trace, lo - WARMUP_S, hi)
        if part is None or part.arrival_s[-1] < k * step_s:
            continue
        first = max(math.floor((lo - WARMUP_S) / step_s), 0)
        last = min(math.ceil(hi / step_s), len(counts) - 1)
        steps = [(j * step_s, *counts[j]) for j in range(first, last + 1)]
        tasks.append(TrimTask(k, k - first, part, steps, delay_s, max(lo, 0.0), hi))
    return tasks


def trim_step(job: tuple[ReplaySetup, TrimTask]) -> Trimmed:
    """Lower the step's prefill count, then its decode count, one at a time, while the part's
    replay meets both objectives in the judged windows."""
    setup, task = job
    steps, at = list(task.steps), task.at
    replays = 0
    found: list[tuple[float, float] | None] = [None, None]
    for phase in (0, 1):
        least = setup.min_instances[phase]
        while steps[at][1 + phase] > least:
            trial = list(steps)
            start, m, n = trial[at]
            trial[at] = (start, m - (phase == 0), n - (phase == 1))
            verdict = replay_part(
                setup, task.part, trial, task.delay_s, task.judge_lo_s, task.judge_hi_s
            )
            replays += 1
            if verdict.meets:
                steps = trial
                continue
            if not verdict.ttft_met:
                found[phase] = verdict.worst_ttft
            else:
                found[phase] = verdict.worst_tpot
            break
    _, p, d = steps[at]
    return Trimmed(task.index, p, d, found[0], found[1], replays)
