"""Tables of imported runs and of a comparison of measured steps with pdplan's predictions."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from pdplan.measured.compare import Comparison
from pdplan.measured.runs import BenchRun, ReportedStats
from pdplan.report.format import fmt_duration, new_table

__all__ = ["render_comparison", "runs_table"]


def _name(source: str) -> str:
    """A run's file name without its directory (the table is narrow)."""
    return source.replace("\\", "/").rsplit("/", 1)[-1]


def _stat(stats: ReportedStats | None, name: str) -> str:
    value = None if stats is None else getattr(stats, name)
    return "-" if value is None else fmt_duration(value)


def runs_table(runs: list[BenchRun]) -> Table:
    """One row per imported run: how it loaded the engine and what it measured."""
    table = new_table(
        "Imported runs",
        "file<",
        "load",
        "ISL",
        "OSL",
        "in tok/s",
        "TTFT\nmean",
        "TTFT\np90",
        "TPOT\nmean",
    )
    tools = sorted({r.tool for r in runs})
    for r in runs:
        load = f"{r.rate_rps:.4g}/s" if r.rate_rps else f"c {r.concurrency or 'all'}"
        table.add_row(
            _name(r.source),
            load,
            f"{r.isl_tokens:,.0f}",
            f"{r.osl_tokens:,.0f}",
            f"{r.input_tps:,.0f}",
            _stat(r.ttft_s, "mean"),
            _stat(r.ttft_s, "p90"),
            _stat(r.tpot_s, "mean"),
        )
    table.caption = (
        f"written by {', '.join(tools)}; load: open-loop rate (req/s) or closed-loop "
        "concurrency (c)"
    )
    return table


def _error(value: float | None) -> str:
    return "-" if value is None else f"{value:+.0%}"


def _verdict(value: bool | None) -> str:
    return "?" if value is None else ("yes" if value else "no")


_METRICS = (
    ("TTFT mean", "ttft_mean"),
    ("TTFT p90", "ttft_p90"),
    ("TPOT mean", "tpot_mean"),
    ("TPOT p90", "tpot_p90"),
)


def render_comparison(c: Comparison, console: Console) -> None:
    """Per step and metric: measured, predicted and the error; per step the three verdicts;
    then the summary."""
    table = new_table(
        f"Measured against pdplan ({c.allocation}, plan model {c.plan_model})",
        "step<",
        "rate",
        "metric",
        "measured",
        "pdplan",
        "error",
        "meets:\nm / s / p",
    )
    for s in c.steps:
        verdicts = " / ".join(
            _verdict(v) for v in (s.measured_meets_slo, s.simulator_meets_slo, s.planner_meets_slo)
        )
        for i, (name, key) in enumerate(_METRICS):
            measured = getattr(s, f"measured_{key}_s")
            predicted = getattr(s, f"predicted_{key}_s")
            if measured is None and predicted is None:
                continue
            table.add_row(
                _name(s.source) if i == 0 else "",
                f"{s.rate_rps:.4g}/s" if i == 0 else "",
                name,
                "-" if measured is None else fmt_duration(measured),
                "-" if predicted is None else fmt_duration(predicted),
                _error(s.errors.get(key)),
                verdicts if i == 0 else "",
                end_section=i == len(_METRICS) - 1,
            )
    table.caption = (
        "error: predicted / measured - 1 (+: pdplan predicts slower); pdplan: the simulator "
        "under the plan model's assumptions at the step's rate (req/s); meets: the SLO verdict "
        "measured / simulated / planned"
    )
    console.print(table)
    summary = new_table("Errors", "metric", "steps", "median\n|error|", "worst", "bias")
    for e in c.summary:
        summary.add_row(
            e.metric.replace("_", " "),
            str(e.steps),
            "-" if e.median_abs is None else f"{e.median_abs:.0%}",
            "-" if e.worst is None else f"{e.worst:+.0%}",
            "-" if e.bias is None else f"{e.bias:+.0%}",
        )
    console.print(summary)
    console.print(
        f"SLO verdict: the simulator agrees with the measurement on {c.verdicts_agree} of "
        f"{c.verdicts_known} steps with both known"
    )
    for note in c.notes:
        console.print(f"[yellow]note[/] {note}")
