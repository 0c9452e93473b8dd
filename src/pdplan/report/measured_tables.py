"""Tables of imported runs and of a comparison of measured steps with pdplan's predictions."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from pdplan.measured.compare import Comparison
from pdplan.measured.runs import BenchRun, ReportedStats
from pdplan.report.format import fmt_duration

__all__ = ["render_comparison", "runs_table"]


def _name(source: str) -> str:
    """A run's file name without its directory (the table is narrow)."""
    return source.replace("\\", "/").rsplit("/", 1)[-1]


def _stat(stats: ReportedStats | None, name: str) -> str:
    value = None if stats is None else getattr(stats, name)
    return "-" if value is None else fmt_duration(value)


def runs_table(runs: list[BenchRun]) -> Table:
    """One row per imported run: how it loaded the engine and what it measured."""
    table = Table(title="Imported runs", title_justify="left")
    for name in ("source", "tool", "load", "ISL", "OSL", "in tok/s", "TTFT mean", "TTFT p90"):
        table.add_column(name, justify="left" if name in ("source", "tool") else "right")
    table.add_column("TPOT mean", justify="right")
    for r in runs:
        load = f"{r.rate_rps:.4g} req/s" if r.rate_rps else f"conc. {r.concurrency or 'all'}"
        table.add_row(
            _name(r.source),
            r.tool,
            load,
            f"{r.isl_tokens:,.0f}",
            f"{r.osl_tokens:,.0f}",
            f"{r.input_tps:,.0f}",
            _stat(r.ttft_s, "mean"),
            _stat(r.ttft_s, "p90"),
            _stat(r.tpot_s, "mean"),
        )
    return table


def _pair(measured: float | None, predicted: float | None, error: float | None) -> str:
    if measured is None and predicted is None:
        return "-"
    m = "-" if measured is None else fmt_duration(measured)
    p = "-" if predicted is None else fmt_duration(predicted)
    e = "" if error is None else f" ({error:+.0%})"
    return f"{m} / {p}{e}"


def _verdict(value: bool | None) -> str:
    return "?" if value is None else ("yes" if value else "no")


def render_comparison(c: Comparison, console: Console) -> None:
    """Per step: measured / predicted (error) per metric and the verdicts; then the summary."""
    table = Table(
        title=f"Measured against pdplan ({c.allocation}, plan model {c.plan_model})",
        title_justify="left",
    )
    for name in ("step", "rate", "TTFT mean", "TTFT p90", "TPOT mean", "TPOT p90"):
        table.add_column(name, justify="left" if name == "step" else "right")
    table.add_column("meets: measured / sim / planner", justify="right")
    for s in c.steps:
        table.add_row(
            _name(s.source),
            f"{s.rate_rps:.4g} req/s",
            _pair(s.measured_ttft_mean_s, s.predicted_ttft_mean_s, s.errors.get("ttft_mean")),
            _pair(s.measured_ttft_p90_s, s.predicted_ttft_p90_s, s.errors.get("ttft_p90")),
            _pair(s.measured_tpot_mean_s, s.predicted_tpot_mean_s, s.errors.get("tpot_mean")),
            _pair(s.measured_tpot_p90_s, s.predicted_tpot_p90_s, s.errors.get("tpot_p90")),
            " / ".join(
                _verdict(v)
                for v in (s.measured_meets_slo, s.simulator_meets_slo, s.planner_meets_slo)
            ),
        )
    table.caption = (
        "measured / predicted (predicted / measured - 1; +: pdplan predicts slower); the "
        "prediction is the simulator under the plan model's assumptions at the step's rate"
    )
    table.caption_justify = "left"
    console.print(table)
    summary = Table(title="Errors", title_justify="left")
    for name in ("metric", "steps", "median |error|", "worst", "bias"):
        summary.add_column(name, justify="left" if name == "metric" else "right")
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
