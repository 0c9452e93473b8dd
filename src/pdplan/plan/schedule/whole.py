"""The whole replay of a schedule: the counts that run (a dip shorter than the scale-up delay
is held), the repair of the windows that miss on the whole trace, and the smallest static
allocation that meets every window. Pure."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from pdplan.errors import InfeasibleSLOError
from pdplan.plan.schedule.segments import Decided
from pdplan.schema.profile import Profile
from pdplan.schema.schedule import Schedule, ScheduleStep
from pdplan.schema.workload import SLO
from pdplan.sim.config import SimConfig
from pdplan.sim.elastic import ScheduleController
from pdplan.sim.elastic_replay import ElasticReplay, simulate_elastic
from pdplan.units import fmt_clock

__all__ = [
    "MAX_REPAIRS",
    "StepCounts",
    "by",
    "executed",
    "merged",
    "repair",
    "replay_schedule",
    "static_reference",
]

OnProgress = Callable[[str], None]
#: Rounds of whole-replay repair before giving up.
MAX_REPAIRS = 40


@dataclass
class StepCounts:
    prefill: int
    decode: int
    prefill_by: str | None
    decode_by: str | None


def by(d: Decided | None, what: str, unit: float, suffix: str) -> str | None:
    """The window that misses with one instance fewer: ``"18:20 TTFT 2.4 s"``."""
    if d is None:
        return None
    return f"{fmt_clock(d.window_start_s)} {what} {d.stat_s * unit:.3g} {suffix}"


def merged(counts: list[StepCounts], step_s: float, delay_s: float) -> Schedule:
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


def executed(counts: list[StepCounts], step_s: float, delay_s: float) -> list[StepCounts]:
    """The counts that serve in each step: a step's instances stay while a later step within
    one scale-up delay needs more (they would have to be started again before it), so a dip
    shorter than the delay is not one. Replays are the same either way; the schedule shown is
    the one that runs.

    >>> c = [StepCounts(2, 1, None, None), StepCounts(1, 1, "x", None)]
    >>> c.append(StepCounts(2, 1, None, None))
    >>> [(x.prefill, x.prefill_by) for x in executed(c, 60.0, 60.0)]
    [(2, None), (2, 'held for the next step'), (2, None)]
    """
    ahead = math.floor(delay_s / step_s + 1e-9)
    out = []
    for k, c in enumerate(counts):
        later = counts[k : k + ahead + 1]
        p, d = max(x.prefill for x in later), max(x.decode for x in later)
        held = "held for the next step"
        out.append(
            StepCounts(
                p,
                d,
                c.prefill_by if p == c.prefill else held,
                c.decode_by if d == c.decode else held,
            )
        )
    return out


def _steps_of(start_s: float, end_s: float, step_s: float, count: int) -> Iterable[int]:
    first = max(int(start_s // step_s), 0)
    last = min(int((end_s - 1e-9) // step_s), count - 1)
    return range(first, last + 1)


def repair(
    profile: Profile,
    config: SimConfig,
    slo: SLO,
    counts: list[StepCounts],
    step_s: float,
    window_s: float,
    delay_s: float,
    hi: tuple[int, int],
    say: OnProgress,
) -> tuple[list[StepCounts], ElasticReplay, int]:
    """Replay the whole schedule; raise the phase that missed in the steps of the first window
    of each run of failing windows (and in the step before, on a window that failed before)
    until every window meets."""
    failed_before: set[tuple[int, str]] = set()
    for rounds in range(MAX_REPAIRS + 1):
        schedule = merged(counts, step_s, delay_s)
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
                note = f"{fmt_clock(w.start_s)} {what} {(stat or 0.0) * scale:.3g} {unit} (whole)"
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


def static_reference(
    profile: Profile,
    config: SimConfig,
    slo: SLO,
    counts: list[StepCounts],
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
