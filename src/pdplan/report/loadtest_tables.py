"""Terminal table of a load-test sweep, beside the planner's and the simulator's capacity."""

from __future__ import annotations

from rich.console import Console

from pdplan.plan.verify import Prediction
from pdplan.quantiles import Distribution, Stat
from pdplan.report.format import fmt_duration, fmt_tpm, fmt_workload, new_table
from pdplan.schema.parts import LoadtestStep, WorkerLoad
from pdplan.schema.workload import SLO, Workload

__all__ = ["render_loadtest"]


def _cell(summary: Distribution | None, stat: Stat) -> str:
    return "-" if summary is None else fmt_duration(summary.stat(stat))


def _worker(w: WorkerLoad) -> str:
    lag = "-" if w.send_lag_s is None else fmt_duration(w.send_lag_s.p99)
    cpu = (
        ""
        if w.cpu_s is None or not w.requests
        else f", {w.cpu_s / w.requests * 1e3:.1f} ms CPU/req"
    )
    clock = ""
    if w.clock_offset_s is not None:
        clock = f", clock {w.clock_offset_s * 1e3:+.1f} ms"
    return f"#{w.worker} {w.host} {w.offered_rps:.3g} req/s, lag p99 {lag}{cpu}{clock}"


def render_loadtest(
    steps: list[LoadtestStep], predictions: Prediction | None, workload: Workload, slo: SLO
) -> None:
    console = Console()
    console.print(f"Target: {fmt_workload(workload)}")
    table = new_table(
        "Load test",
        "step",
        "offered",
        "served",
        f"TTFT\n{slo.ttft_stat}",
        "TTFT\np90",
        f"TPOT\n{slo.tpot_stat}",
        "TPOT\np90",
        "failed",
        "meets\n(met by)",
    )
    behind = []
    for s in steps:
        if s.generator_behind:
            behind.append(f"x{s.multiplier:g}")
        table.add_row(
            f"x{s.multiplier:g}",
            f"{s.offered_rps:.3g}/s",
            f"{s.achieved_rps:.3g}/s",
            _cell(s.ttft_s, slo.ttft_stat),
            _cell(s.ttft_s, "p90"),
            _cell(s.tpot_s, slo.tpot_stat),
            _cell(s.tpot_s, "p90"),
            str(s.failed),
            f"{'yes' if s.meets_slo else 'no'} {s.slo_attainment:.0%}",
        )
    table.caption = (
        f"step: the multiple of the target ({workload.rate_rps:.3g} req/s) scheduled; offered: "
        "the rate actually sent (the schedule's own draw, and any lag of the generator); "
        "served: requests completed per second; met by: the share of requests meeting both SLOs"
    )
    console.print(table)
    for s in steps:
        if s.workers:
            console.print(f"x{s.multiplier:g} workers: " + "; ".join(_worker(w) for w in s.workers))
    if behind:
        console.print(
            f"[yellow]the load generator fell behind its schedule at {', '.join(behind)} (send "
            "lag p99 over the limit): the generator, not the deployment, was the bottleneck, so "
            "those steps fail; add --workers or --ray[/]"
        )
    passing = [s for s in steps if s.meets_slo]
    if passing:
        best = max(passing, key=lambda s: s.achieved_total_tps)
        console.print(
            f"largest measured load meeting the SLOs: {fmt_tpm(best.achieved_total_tps)}"
            f" (x{best.multiplier:g} of the target)"
        )
    else:
        console.print("no step met the SLOs")
    if predictions:
        console.print(
            f"{predictions.allocation}: planner {fmt_tpm(predictions.planned_max_total_tps)},"
            f" simulator {fmt_tpm(predictions.simulated_max_total_tps)}"
        )
