"""Allocations that change while the cluster runs: a schedule, or an autoscaling policy,
replayed in the one simulator (:func:`pdplan.sim.cluster.run_cluster`). Pure.

A :class:`Controller` decides the instance counts: at the times it names, it sees what an
autoscaler would see (:class:`Observation`: the arrivals since its last decision, the queues,
the instances serving and starting) and returns a target per phase. The cluster then:

- **scales up**: a new instance is started at once, paid for from then on, and serves after
  ``scale_up_delay_s`` (scheduling, image, weights, warm-up); an instance still starting is
  the first to go when a target falls again;
- **scales down**: an instance taken out (the most recently added) takes no new request,
  finishes what it holds, and is paid for until it is empty (drain).

Every instance's paid interval is kept, so a replay says what it cost, window by window
(:mod:`pdplan.sim.windows`).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Literal, Protocol

from pdplan.schema.schedule import Schedule
from pdplan.sim.cluster import CONTROL
from pdplan.sim.instances import DecodePool, PrefillPool
from pdplan.sim.kernel import EventQueue

__all__ = [
    "Controller",
    "ElasticControl",
    "Interval",
    "Observation",
    "ScalingEvent",
    "ScheduleController",
]

Phase = Literal["prefill", "decode"]
_DECIDE, _READY = CONTROL, CONTROL + 1
_PHASES: tuple[Phase, Phase] = ("prefill", "decode")


@dataclass(frozen=True)
class Observation:
    """What an autoscaler sees at a decision.

    :ivar since_s: the time of the previous decision (0 at the first)
    :ivar arrivals: requests that arrived since then, and their input and output tokens
    :ivar prefill_queued: requests waiting for a prefill server (all queues)
    :ivar prefill_busy: prefill servers of serving instances busy right now
    :ivar decode_running: requests decoding on serving instances; ``decode_waiting`` those
        waiting for a slot
    """

    now_s: float
    since_s: float
    arrivals: int
    input_tokens: int
    output_tokens: int
    prefill_serving: int
    prefill_starting: int
    decode_serving: int
    decode_starting: int
    prefill_queued: int
    prefill_busy: int
    prefill_servers: int
    decode_running: int
    decode_waiting: int


class Controller(Protocol):
    """Decides the counts over a run (a schedule, or an autoscaling policy)."""

    def initial(self) -> tuple[int, int]:
        """The (prefill, decode) instances serving at time 0."""
        ...

    def next_decision_s(self, after_s: float) -> float | None:
        """The first decision time after ``after_s`` (None: no more decisions)."""
        ...

    def decide(self, obs: Observation) -> tuple[int | None, int | None]:
        """The target (serving + starting) count per phase; None keeps it."""
        ...


@dataclass(frozen=True)
class Interval:
    """One instance's paid time: from its start (or 0) to the end of its drain (or the run's
    end: ``end_s`` None)."""

    phase: Phase
    start_s: float
    end_s: float | None


@dataclass(frozen=True)
class ScalingEvent:
    """A target that changed a phase's count at ``time_s`` (from ``before`` to ``after``)."""

    time_s: float
    phase: Phase
    before: int
    after: int


@dataclass
class _Phase:
    """One phase's instances: who serves, who starts, who drains, and what each has cost."""

    name: Phase
    servers: int  # servers per instance (prefill: attention-DP groups)
    serving: list[int] = field(default_factory=list)  # instances, in the order added
    starting: list[int] = field(default_factory=list)
    busy_servers: dict[int, int] = field(default_factory=dict)  # draining: servers not idle
    free: list[int] = field(default_factory=list)  # slots to reuse
    paid_from: dict[int, float] = field(default_factory=dict)
    intervals: list[Interval] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.serving) + len(self.starting)


class ElasticControl:
    """Runs a :class:`Controller` inside the simulator's loop (a
    :class:`pdplan.sim.cluster.Control`)."""

    def __init__(self, controller: Controller, scale_up_delay_s: float, groups: int = 1) -> None:
        self.controller = controller
        self.delay_s = scale_up_delay_s
        self.phases = (_Phase("prefill", groups), _Phase("decode", 1))
        self.events_log: list[ScalingEvent] = []
        self._cancelled: set[tuple[int, int]] = set()
        self._last_s = 0.0
        self._seen = 0  # arrivals already reported

    # -- the Control protocol -------------------------------------------------------------

    def start(
        self,
        events: EventQueue,
        prefill: PrefillPool,
        decode: DecodePool,
        arrivals: list[float],
        isls: list[int],
        osls: list[int],
    ) -> None:
        self.events, self.prefill, self.decode = events, prefill, decode
        self.arrivals, self.isls, self.osls = arrivals, isls, osls
        self._cum_in = _cumulative(isls)
        self._cum_out = _cumulative(osls)
        prefill.on_idle = self._prefill_idle
        decode.on_idle = self._decode_idle
        p0, d0 = self.controller.initial()
        groups = self.phases[0].servers
        if (len(prefill.busy), len(decode.active)) != (p0 * groups, d0):
            raise ValueError("the cluster must start with the controller's initial counts")
        for index, count in ((0, p0), (1, d0)):
            phase = self.phases[index]
            for k in range(count):
                phase.serving.append(k)
                phase.paid_from[k] = 0.0
        self._schedule_decision(-1.0)

    def handle(self, kind: int, a: int, b: int, now: float) -> None:
        if kind == _DECIDE:
            self._decide(now)
        elif kind == _READY:
            self._ready(a, b, now)

    # -- results --------------------------------------------------------------------------

    def intervals(self, end_s: float) -> list[Interval]:
        """Every instance's paid interval, those still open closed at ``end_s``."""
        out = []
        for phase in self.phases:
            out.extend(phase.intervals)
            out.extend(Interval(phase.name, start, end_s) for start in phase.paid_from.values())
        return out

    # -- decisions ------------------------------------------------------------------------

    def _schedule_decision(self, after_s: float) -> None:
        """The controller's next decision, if the run still has arrivals then (a policy that
        decides forever would keep the run going)."""
        t = self.controller.next_decision_s(after_s)
        if t is not None and t <= self.arrivals[-1]:
            self.events.at(max(t, 0.0), _DECIDE)

    def _decide(self, now: float) -> None:
        obs = self._observe(now)
        self._last_s = now
        targets = self.controller.decide(obs)
        for index, target in enumerate(targets):
            if target is not None:
                self._scale(index, max(1, target), now)
        self._schedule_decision(now)

    def _observe(self, now: float) -> Observation:
        lo, hi = self._seen, bisect.bisect_right(self.arrivals, now)
        self._seen = hi
        p, d = self.phases
        pool = self.prefill
        servers = [i for k in p.serving for i in range(k * p.servers, (k + 1) * p.servers)]
        queued = (
            sum(len(q) for q in pool.queues)
            if pool.pick is None
            else sum(len(pool.queues[i]) for i in servers)
        )
        return Observation(
            now_s=now,
            since_s=self._last_s,
            arrivals=hi - lo,
            input_tokens=self._cum_in[hi] - self._cum_in[lo],
            output_tokens=self._cum_out[hi] - self._cum_out[lo],
            prefill_serving=len(p.serving),
            prefill_starting=len(p.starting),
            decode_serving=len(d.serving),
            decode_starting=len(d.starting),
            prefill_queued=queued,
            prefill_busy=sum(pool.busy[i] for i in servers),
            prefill_servers=len(servers),
            decode_running=sum(self.decode.active[j] for j in d.serving),
            decode_waiting=sum(len(self.decode.waiting[j]) for j in d.serving),
        )

    def _scale(self, index: int, target: int, now: float) -> None:
        phase = self.phases[index]
        before = phase.count
        while phase.count < target:
            self._launch(index, now)
        while phase.count > target:
            if phase.starting:
                k = phase.starting.pop()
                self._cancelled.add((index, k))
                self._end(index, k, now)
                phase.free.append(k)
            else:
                self._drain(index, phase.serving[-1], now)
        if phase.count != before:
            self.events_log.append(ScalingEvent(now, phase.name, before, phase.count))

    def _launch(self, index: int, now: float) -> None:
        phase = self.phases[index]
        if phase.free:
            k = phase.free.pop()
        elif index == 0:
            k = self.prefill.grow(phase.servers) // phase.servers
        else:
            k = self.decode.grow(1)
        phase.starting.append(k)
        phase.paid_from[k] = now
        self._cancelled.discard((index, k))
        self.events.at(now + self.delay_s, _READY, index, k)

    def _ready(self, index: int, k: int, now: float) -> None:
        if (index, k) in self._cancelled:
            self._cancelled.discard((index, k))
            return
        phase = self.phases[index]
        if k not in phase.starting:
            return
        phase.starting.remove(k)
        phase.serving.append(k)
        if index == 0:
            for i in range(k * phase.servers, (k + 1) * phase.servers):
                self.prefill.add(i, now)
        else:
            self.decode.add(k, now)

    # -- instances ------------------------------------------------------------------------

    def _drain(self, index: int, k: int, now: float) -> None:
        phase = self.phases[index]
        phase.serving.remove(k)
        phase.busy_servers[k] = phase.servers
        if index == 0:
            for i in range(k * phase.servers, (k + 1) * phase.servers):
                self.prefill.drain(i, now)
        else:
            self.decode.drain(k, now)

    def _prefill_idle(self, server: int, now: float) -> None:
        phase = self.phases[0]
        k = server // phase.servers
        left = phase.busy_servers.get(k)
        if left is None:
            return
        if left <= 1:
            del phase.busy_servers[k]
            self._end(0, k, now)
            phase.free.append(k)
        else:
            phase.busy_servers[k] = left - 1

    def _decode_idle(self, j: int, now: float) -> None:
        phase = self.phases[1]
        if phase.busy_servers.pop(j, None) is not None:
            self._end(1, j, now)
            phase.free.append(j)

    def _end(self, index: int, k: int, now: float) -> None:
        phase = self.phases[index]
        start = phase.paid_from.pop(k, None)
        if start is not None:
            phase.intervals.append(Interval(phase.name, start, now))


def _cumulative(values: list[int]) -> list[int]:
    out = [0]
    for v in values:
        out.append(out[-1] + v)
    return out


class ScheduleController:
    """A :class:`~pdplan.schema.schedule.Schedule` as a controller: each phase's count is
    raised ``scale_up_delay_s`` before a step needs it (the target at ``t`` is the most any
    step needs in ``[t, t + delay]``: a dip shorter than the delay keeps its instances) and
    lowered when a step starts.

    >>> from pdplan.schema.schedule import ScheduleStep
    >>> s = Schedule(steps=[ScheduleStep(start_s=0, prefill_instances=1, decode_instances=1),
    ...                     ScheduleStep(start_s=600, prefill_instances=2, decode_instances=1)],
    ...              scale_up_delay_s=120)
    >>> c = ScheduleController(s)
    >>> c.next_decision_s(-1.0), c.next_decision_s(0.0), c.next_decision_s(480.0)
    (0.0, 480.0, 600.0)
    >>> c.initial(), c.target_at(480.0)
    ((1, 1), (2, 1))
    """

    def __init__(self, schedule: Schedule) -> None:
        self.schedule = schedule
        delay = schedule.scale_up_delay_s
        times = {0.0}
        for step in schedule.steps[1:]:
            times.add(max(step.start_s - delay, 0.0))
            times.add(step.start_s)
        self.times = sorted(times)
        self.starts = [s.start_s for s in schedule.steps]

    def initial(self) -> tuple[int, int]:
        return self.target_at(0.0)

    def next_decision_s(self, after_s: float) -> float | None:
        i = bisect.bisect_right(self.times, after_s)
        return self.times[i] if i < len(self.times) else None

    def decide(self, obs: Observation) -> tuple[int | None, int | None]:
        return self.target_at(obs.now_s)

    def target_at(self, t: float) -> tuple[int, int]:
        """The most each phase needs in ``[t, t + delay]``."""
        end = t + self.schedule.scale_up_delay_s
        first = max(bisect.bisect_right(self.starts, t) - 1, 0)
        last = bisect.bisect_right(self.starts, end)
        steps = self.schedule.steps[first:last]
        return max(s.prefill_instances for s in steps), max(s.decode_instances for s in steps)
