"""The schedule planner: every window meets on the whole replay, the counts follow the rate,
no step can lose an instance, and the static reference costs more."""

from __future__ import annotations

import random

import pytest

from pdplan import SLO, Workload, default_profile
from pdplan.errors import ConfigError, InfeasibleSLOError
from pdplan.plan.schedule import SchedulePlan, plan_schedule
from pdplan.schema.schedule import Schedule, ScheduleStep
from pdplan.schema.trace import Trace

PROFILE = default_profile()  # prefill: 0.1 s + 6,144 tokens in 0.217 s
SLO_ = SLO(ttft_s=1.0, tpot_s=0.02)
RATES = (1.0, 5.0, 9.0, 3.0)  # req/s in each 10-minute step


def _ramp(seed: int = 3) -> Workload:
    rng = random.Random(seed)
    times: list[float] = []
    for k, rate in enumerate(RATES):
        t = k * 600.0
        while True:
            t += rng.expovariate(rate)
            if t >= (k + 1) * 600:
                break
            times.append(t)
    n = len(times)
    return Workload.from_trace(Trace(tuple(times), (6144,) * n, (32,) * n))


@pytest.fixture(scope="module")
def planned() -> SchedulePlan:
    return plan_schedule(PROFILE, _ramp(), SLO_, step_s=600, scale_up_delay_s=120)


def test_every_window_meets_on_the_whole_replay_and_the_counts_follow_the_rate(
    planned: SchedulePlan,
) -> None:
    assert planned.replay.meets_slo
    prefill = [s.prefill_instances for s in planned.steps]
    assert prefill[0] < prefill[1] < prefill[2] and prefill[3] < prefill[2]
    assert [s.requests for s in planned.steps] == [w.requests for w in planned.replay.windows]
    # each count above the minimum names the window that misses with one fewer
    for s in planned.steps:
        assert (s.prefill_decided_by is None) == (s.prefill_instances == 1)


def test_the_scale_up_starts_its_delay_ahead_and_is_paid_from_then(planned: SchedulePlan) -> None:
    ups = [e for e in planned.replay.events if e.phase == "prefill" and e.after > e.before]
    assert ups and all(e.time_s in (600 - 120, 1200 - 120) for e in ups)
    static = planned.static
    assert static.meets_slo and planned.replay.gpu_hours < static.gpu_hours
    assert planned.static_allocation.startswith(
        f"{max(s.prefill_instances for s in planned.steps)}P"
    )


def test_no_step_can_lose_an_instance(planned: SchedulePlan) -> None:
    counts = [(s.prefill_instances, s.decode_instances) for s in planned.steps]
    for k, (m, n) in enumerate(counts):
        for fewer in ((m - 1, n), (m, n - 1)):
            if min(fewer) < 1:
                continue
            changed = [*counts[:k], fewer, *counts[k + 1 :]]
            schedule = Schedule(
                steps=[
                    ScheduleStep(start_s=600.0 * j, prefill_instances=p, decode_instances=d)
                    for j, (p, d) in enumerate(changed)
                ],
                scale_up_delay_s=120,
            )
            assert not planned.replay_other(schedule).meets_slo, (k, fewer)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"scale_up_delay_s": 3000}, "--scale-up-delay 3000 s is not shorter than the trace"),
        ({"step_s": 30}, "--step must be 1 min to 1 day, got 30 s"),
        ({"step_s": 3000}, "a schedule of one step is the static plan"),
        ({"slo_window_s": 5}, "--slo-window must be 10 s to 1 day, got 5 s"),
        ({"min_instances": (3, 1), "max_instances": (2, 4)}, "--min-prefill 3 and --max-prefill 2"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, object], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle.replace("(", r"\(")):
        plan_schedule(PROFILE, _ramp(), SLO_, **kwargs)  # type: ignore[arg-type]


def test_a_maximum_too_low_is_infeasible_and_says_where() -> None:
    with pytest.raises(
        InfeasibleSLOError, match="the step at 1200 s needs more than the maximum of 2 prefill"
    ):
        plan_schedule(PROFILE, _ramp(), SLO_, max_instances=(2, 10))
