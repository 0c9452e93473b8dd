"""Terminal table of a load-test sweep, beside the planner's and the simulator's capacity."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from pdplan.quantiles import Distribution, Stat
from pdplan.report.format import fmt_duration, fmt_tpm, fmt_workload
from pdplan.schema.parts import LoadtestStep, WorkerLoad
from pdplan.schema.workload import SLO, Workload
from pdplan.verify import Prediction

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
    table = Table(title="Load test", title_justify="left")
    for name in (
        "step",
        "offered",
        "achieved",
        f"TTFT {slo.ttft_stat}",
        "TTFT p90",
        f"TPOT {slo.tpot_stat}",
        "TPOT p90",
        "SLO met by",
        "errors",
        "meets",
    ):
        table.add_column(name, justify="right")
    behind = []
    for s in steps:
        # the multiple of the target actually offered (the schedule's own draw, and any lag)
        offered = s.offered_rps
        actual = offered / workload.rate_rps if workload.rate_rps else 0.0
        if s.generator_behind:
            behind.append(f"x{s.multiplier:g}")
        table.add_row(
            f"x{s.multiplier:g}",
            f"{actual:.2f}x, {offered:.3g} req/s",
            fmt_tpm(s.achieved_total_tps),
            _cell(s.ttft_s, slo.ttft_stat),
            _cell(s.ttft_s, "p90"),
            _cell(s.tpot_s, slo.tpot_stat),
            _cell(s.tpot_s, "p90"),
            f"{s.slo_attainment:.0%}",
            str(s.failed),
            "yes" if s.meets_slo else "no",
        )
    table.caption = (
        "step: the multiple of the target scheduled; offered: the multiple and rate actually "
        "sent (the schedule's own draw, and any lag of the generator)"
    )
    table.caption_justify = "left"
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
