"""Plans over time, checked: ``pdplan schedule`` on days of production-derived traffic and on
hour-long production traces.

For each scenario and scale-up delay it prints:

- the schedule's GPU-hours against the smallest static allocation that meets every window
  (``size --trace --slo-window``) and against the static plan of ``size --trace`` (the whole
  replay's statistic; its windows judged on the same grid), and whether the schedule meets
  every window on the whole replay;
- minimality on a sample of steps: each count lowered by one in that step, the whole day
  replayed again: the share of those that break a window (1.0: minimal where sampled);
- the autoscaling policies at their cheapest safe setting (windows met, worst window,
  GPU-hours, scaling events);
- the time to plan and to replay the day once, and the peak memory of the process.

Scenarios: the shipped ServeGen models (``../shared/traces/servegen``), a day each
(deepseek-r1 at its own rate with the embedded paper profile; m-small's first day at a
twentieth of its rate with the measured vLLM-cpu tiny-model profile), and the Azure 2023
conversation and Mooncake traces replayed four times faster (about 15 min), in 1-min steps and
windows, with a 1-min scale-up delay and the throughput policy deciding every 45 s (Dynamo's
180 s on a clock four times faster).

    python benchmarks/elastic_accuracy.py [--quick] [--jobs N] [--sample K]
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from pdplan import SLO, Workload, default_profile
from pdplan.io import load_profile, load_servegen, load_trace
from pdplan.parallel import process_map
from pdplan.plan.autoscale import PolicyRow
from pdplan.plan.schedule import SchedulePlan, plan_schedule
from pdplan.plan.trace import plan_trace
from pdplan.plan.verify import cluster_for
from pdplan.schema.profile import Profile
from pdplan.schema.schedule import Schedule, ScheduleStep
from pdplan.sim.config import SimConfig
from pdplan.sim.elastic import ScheduleController
from pdplan.traffic.servegen import generate

ROOT = Path(__file__).parents[1]
SHARED = ROOT.parent / "shared" / "traces"


@dataclass(frozen=True)
class Scenario:
    name: str
    workload: Workload
    profile: Profile
    slo: SLO
    step_s: float
    delays_s: tuple[float, ...]
    interval_s: float = 180.0  # the throughput policy's adjustment interval


def _servegen(model: str, rate: float, end_s: float) -> Workload:
    pool = load_servegen(SHARED / "servegen" / "data" / model)
    return Workload.from_trace(generate(pool, rate_scale=rate, start_s=0, end_s=end_s, seed=1))


def scenarios(quick: bool) -> list[Scenario]:
    day = 6 * 3600.0 if quick else 86_400.0
    delays = (180.0,) if quick else (60.0, 180.0, 600.0)
    tiny = load_profile(ROOT / "examples" / "profiles" / "vllm-cpu-1p1d-tiny-llama.yaml")
    out = [
        Scenario(
            "servegen deepseek-r1, a day",
            _servegen("reason/deepseek-r1", 1.0, day),
            default_profile(),
            SLO(ttft_s=2.0, tpot_s=0.040),
            600.0,
            delays,
        ),
        Scenario(
            "servegen m-small x0.05, a day",
            _servegen("language/m-small", 0.05, day),
            tiny,
            SLO(ttft_s=0.5, tpot_s=0.010),
            600.0,
            delays,
        ),
    ]
    for name, file in (
        ("azure conv 2023 x4", "azure-llm-inference-conv-2023.csv"),
        ("mooncake conversation x4", "mooncake-conversation.jsonl"),
    ):
        out.append(
            Scenario(
                name,
                Workload.from_trace(load_trace(SHARED / file), time_scale=4.0),
                default_profile(),
                SLO(ttft_s=2.0, tpot_s=0.040),
                60.0,
                (60.0,),
                45.0,  # Dynamo's 180 s, on a clock four times faster
            )
        )
    return out


def _lowered(plan: SchedulePlan, k: int, phase: int) -> Schedule | None:
    counts = [[s.prefill_instances, s.decode_instances] for s in plan.steps]
    if counts[k][phase] <= 1:
        return None
    counts[k][phase] -= 1
    return Schedule(
        steps=[
            ScheduleStep(start_s=s.start_s, prefill_instances=c[0], decode_instances=c[1])
            for s, c in zip(plan.steps, counts, strict=True)
        ],
        scale_up_delay_s=plan.scale_up_delay_s,
    )


def _runs(schedule: Schedule, starts: list[float]) -> list[tuple[int, int]]:
    """The counts that serve at each step's start (a dip shorter than the delay is held)."""
    controller = ScheduleController(schedule)
    return [controller.target_at(t) for t in starts]


def minimality(plan: SchedulePlan, sample: int, seed: int = 7) -> tuple[int, int, int]:
    """On ``sample`` random steps, each count lowered by one and the whole trace replayed:
    (lowered counts that break a window, lowered counts replayed, lowerings that change
    nothing that runs: the instance is held for a scale-up within one delay)."""
    rng = random.Random(seed)
    steps = rng.sample(range(len(plan.steps)), min(sample, len(plan.steps)))
    starts = [s.start_s for s in plan.steps]
    runs = _runs(plan.schedule, starts)
    broke = tried = held = 0
    for k in sorted(steps):
        for phase in (0, 1):
            schedule = _lowered(plan, k, phase)
            if schedule is None:
                continue
            if _runs(schedule, starts) == runs:
                held += 1
                continue
            tried += 1
            broke += not plan.replay_other(schedule).meets_slo
    return broke, tried, held


def static_size_trace(s: Scenario, window_s: float) -> tuple[str, float, int, int]:
    """``size --trace`` (the whole replay's statistic): its allocation, GPU-hours, and the
    windows it meets on the schedule's grid."""
    tp = plan_trace(s.profile, s.workload, s.slo)
    a = tp.allocation
    plan_ = tp.mean_rate_plan
    config = SimConfig(
        cluster=cluster_for(plan_, 1, 1), workload=s.workload, seed=42, warmup_share=0.0
    )
    from pdplan.plan.schedule import replay_schedule

    r = replay_schedule(
        s.profile,
        config,
        Schedule.static(a.prefill_instances, a.decode_instances),
        s.slo,
        window_s,
    )
    busy = [w for w in r.windows if w.requests]
    return a.allocation, r.gpu_hours, sum(w.meets for w in busy), len(busy)


def _policy_line(row: PolicyRow) -> str:
    worst = "-" if row.worst_window_start_s is None else f"{row.worst_window_start_s:g}"
    value = "" if row.value is None else f"{row.value:g}"
    ttft, tpot = row.worst_ttft_s or 0.0, (row.worst_tpot_s or 0.0) * 1e3
    return (
        f"  {row.policy:26s} {row.knob or '':18s} {value:>5} met {row.windows_met:4d}/"
        f"{row.windows:<4d} worst {worst:>7s} TTFT {ttft:7.3f} s TPOT {tpot:7.1f} ms "
        f"{row.gpu_hours:10,.1f} GPU-h {row.scaling_events:5d} events"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6 h, one delay")
    parser.add_argument("--jobs", type=int, default=None, help="worker processes")
    parser.add_argument("--sample", type=int, default=6, help="steps checked for minimality")
    parser.add_argument("--only", help="run the scenarios whose name contains this")
    args = parser.parse_args()
    map_fn = process_map(args.jobs)
    for s in scenarios(args.quick):
        if args.only and args.only not in s.name:
            continue
        trace = s.workload.trace
        assert trace is not None
        print(f"\n## {s.name}: {len(trace):,} requests, step {s.step_s:g} s, SLO mean TTFT "
              f"{s.slo.ttft_s:g} s, mean TPOT {s.slo.tpot_s * 1e3:g} ms", flush=True)  # fmt: skip
        t0 = time.perf_counter()
        ref = static_size_trace(s, s.step_s)
        print(f"size --trace (whole replay): {ref[0]}, {ref[1]:,.1f} GPU-h, windows met "
              f"{ref[2]}/{ref[3]} ({time.perf_counter() - t0:.0f} s)", flush=True)  # fmt: skip
        for delay in s.delays_s:
            t0 = time.perf_counter()
            plan = plan_schedule(
                s.profile, s.workload, s.slo, step_s=s.step_s, scale_up_delay_s=delay,
                interval_s=s.interval_s, map_fn=map_fn,
            )  # fmt: skip
            planned_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            again = plan.replay_other(plan.schedule)
            replay_s = time.perf_counter() - t0
            broke, tried, held = minimality(plan, args.sample)
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            busy = [w for w in plan.replay.windows if w.requests]
            print(
                f"delay {delay:g} s: schedule {plan.replay.gpu_hours:,.1f} GPU-h, windows met "
                f"{sum(w.meets for w in busy)}/{len(busy)} (again: {again.meets_slo}); static "
                f"every window {plan.static_allocation} {plan.static.gpu_hours:,.1f} GPU-h; "
                f"saving {plan.saving:.1%} vs it, {1 - plan.replay.gpu_hours / ref[1]:.1%} vs "
                f"size --trace; minimality {broke}/{tried} lowered counts break a window "
                f"({held} held for a scale-up); "
                f"{len(plan.schedule.steps)} changes, {plan.repairs} repair rounds; planned in "
                f"{planned_s:.0f} s, one replay {replay_s:.1f} s, peak RSS {rss:,.0f} MB",
                flush=True,
            )
            for row in plan.policies:
                print(_policy_line(row), flush=True)
    print(f"\n{sys.argv[0]} done", flush=True)


if __name__ == "__main__":
    main()
