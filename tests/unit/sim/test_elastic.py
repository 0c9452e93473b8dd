"""Allocations that change while the simulator runs: a static schedule is the static
simulation, a scale-up serves after its delay and is paid from its start, a drained instance
takes no new request and is paid until it is empty, and the windows add up."""

from __future__ import annotations

import random

import pytest

from pdplan import SLO, Workload, default_profile
from pdplan.schema.schedule import Schedule, ScheduleStep
from pdplan.schema.trace import Trace
from pdplan.sim.cluster import simulate
from pdplan.sim.config import ClusterConfig, SimConfig
from pdplan.sim.elastic import Observation, ScheduleController
from pdplan.sim.elastic_replay import simulate_elastic

PROFILE = default_profile()  # 8 GPUs per instance; prefill 6144 tokens in 0.217 s
SLO_ = SLO(ttft_s=2.0, tpot_s=0.02)


def _trace(rate_rps: float, span_s: float, seed: int = 1) -> Workload:
    rng = random.Random(seed)
    times, t = [], 0.0
    while t < span_s:
        times.append(t)
        t += rng.expovariate(rate_rps)
    n = len(times)
    return Workload.from_trace(Trace(tuple(times), (6144,) * n, (64,) * n))


def _steps(*steps: tuple[float, int, int], delay: float = 0.0) -> Schedule:
    return Schedule(
        steps=[
            ScheduleStep(start_s=t, prefill_instances=p, decode_instances=d) for t, p, d in steps
        ],
        scale_up_delay_s=delay,
    )


def test_a_static_schedule_is_the_static_simulation() -> None:
    w = _trace(8.0, 300.0)
    config = SimConfig(cluster=ClusterConfig(prefill_instances=2, decode_instances=2), workload=w)
    static = simulate(PROFILE, config, SLO_)
    elastic = simulate_elastic(PROFILE, config, ScheduleController(_steps((0, 2, 2))), SLO_,
                               scale_up_delay_s=120, window_s=60)  # fmt: skip
    assert elastic.result.ttft_s == static.ttft_s and elastic.result.tpot_s == static.tpot_s
    assert elastic.scaling_events == 0
    # paid from 0 to the last completion, 4 instances of 8 GPUs
    assert elastic.gpu_hours == pytest.approx(4 * 8 * elastic.result_end_s / 3600)


def test_a_scale_up_is_paid_from_its_start_and_serves_after_its_delay() -> None:
    w = _trace(6.0, 1200.0)  # 6 req/s x 0.217 s: one prefill instance is 130 % busy
    config = SimConfig(cluster=ClusterConfig(prefill_instances=1, decode_instances=2), workload=w)
    schedule = _steps((0, 1, 2), (600, 2, 2), delay=180)
    run = simulate_elastic(PROFILE, config, ScheduleController(schedule), SLO_,
                           scale_up_delay_s=180, window_s=300)  # fmt: skip
    # one event: the second prefill instance, started at 600 - 180 = 420 s
    (event,) = run.events
    assert (event.time_s, event.phase, event.before, event.after) == (420.0, "prefill", 1, 2)
    windows = {w.start_s: w for w in run.windows}
    assert windows[300].prefill_instances == pytest.approx(1 + 180 / 300)  # paid from 420
    assert windows[600].prefill_instances == pytest.approx(2.0)
    # until 600 s the queue grows as with one instance; once the second serves, it drains
    assert not windows[0].ttft_met
    assert windows[900].ttft_s is not None and windows[300].ttft_s is not None
    assert windows[900].ttft_s < windows[300].ttft_s


def test_a_drained_instance_finishes_its_work_and_is_paid_until_then() -> None:
    w = _trace(6.0, 900.0)
    config = SimConfig(cluster=ClusterConfig(prefill_instances=3, decode_instances=2), workload=w)
    run = simulate_elastic(PROFILE, config, ScheduleController(_steps((0, 3, 2), (300, 2, 2))),
                           SLO_, scale_up_delay_s=60, window_s=300)  # fmt: skip
    windows = {w.start_s: w for w in run.windows}
    assert windows[0].prefill_instances == pytest.approx(3.0)
    # paid a little past 300 s (its last prefill: at most a few service times), then gone
    assert 2.0 <= windows[300].prefill_instances < 2.0 + 5 * 0.25 / 300
    assert windows[600].prefill_instances == pytest.approx(2.0)
    assert run.meets_slo


class _Reactive:
    """Adds a prefill instance whenever requests queue at prefill (a toy autoscaler)."""

    def __init__(self) -> None:
        self.seen: list[Observation] = []

    def initial(self) -> tuple[int, int]:
        return 1, 2

    def next_decision_s(self, after_s: float) -> float | None:
        return None if after_s >= 600 else max(0.0, (after_s // 30 + 1) * 30)

    def decide(self, obs: Observation) -> tuple[int | None, int | None]:
        self.seen.append(obs)
        count = obs.prefill_serving + obs.prefill_starting
        return (count + 1 if obs.prefill_queued > 5 and count < 4 else None), None


def test_a_controller_sees_the_arrivals_and_queues_and_its_orders_take_a_delay() -> None:
    w = _trace(6.0, 900.0)
    config = SimConfig(cluster=ClusterConfig(prefill_instances=1, decode_instances=2), workload=w)
    ctl = _Reactive()
    run = simulate_elastic(PROFILE, config, ctl, SLO_, scale_up_delay_s=90, window_s=300)
    arrived = sum(o.arrivals for o in ctl.seen)
    assert arrived == sum(1 for t in w.trace.arrival_s if t <= ctl.seen[-1].now_s)  # type: ignore[union-attr]
    grows = [e for e in run.events if e.phase == "prefill"]
    assert grows and grows[0].after == 2
    first = grows[0].time_s
    # the instance ordered at `first` still starting for 90 s: the next observation says so
    after = next(o for o in ctl.seen if o.now_s > first)
    assert after.prefill_starting >= 1 and after.now_s < first + 90


class _UpThenDown:
    """Orders two more prefill instances at 100 s and takes them back at 150 s."""

    def initial(self) -> tuple[int, int]:
        return 1, 1

    def next_decision_s(self, after_s: float) -> float | None:
        return next((t for t in (100.0, 150.0) if t > after_s), None)

    def decide(self, obs: Observation) -> tuple[int | None, int | None]:
        return (3 if obs.now_s < 120 else 1), None


def test_an_order_cancelled_before_it_serves_never_serves_and_is_paid_while_it_started() -> None:
    w = _trace(2.0, 600.0)
    config = SimConfig(cluster=ClusterConfig(prefill_instances=1, decode_instances=1), workload=w)
    run = simulate_elastic(PROFILE, config, _UpThenDown(), SLO_, scale_up_delay_s=100,
                           window_s=600)  # fmt: skip
    # ordered at 100 s, cancelled at 150 s (they would have served at 200 s): 50 s each
    assert [(e.time_s, e.before, e.after) for e in run.events] == [(100, 1, 3), (150, 3, 1)]
    assert run.prefill_gpu_hours * 3600 / 8 == pytest.approx(run.result_end_s + 2 * 50)
    single = simulate(PROFILE, config, SLO_)
    assert run.result.ttft_s == single.ttft_s  # they never served a request
