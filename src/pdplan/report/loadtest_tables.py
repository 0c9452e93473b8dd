"""Terminal table of a load-test sweep, beside the planner's and the simulator's capacity."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from pdplan.models.workload import SLO, Workload
from pdplan.report.format import fmt_duration, fmt_tpm

__all__ = ["render_loadtest"]


def render_loadtest(
    steps: list[dict[str, Any]], predictions: dict[str, Any] | None, workload: Workload, slo: SLO
) -> None:
    console = Console()
    stat = slo.ttft_stat
    table = Table(title=f"Load test (target {fmt_tpm(workload.total_tps)})", title_justify="left")
    for name in (
        "x target",
        "offered",
        "achieved",
        f"TTFT {stat}",
        "TTFT p90",
        f"TPOT {stat}",
        "TPOT p90",
        "SLO met by",
        "errors",
        "meets",
    ):
        table.add_column(name, justify="right")
    for s in steps:
        ttft, tpot = s["ttft_s"], s["tpot_s"]

        def cell(summary: dict[str, Any], key: str) -> str:
            return fmt_duration(summary[key]) if summary.get("count") else "-"

        table.add_row(
            f"{s['multiplier']:g}",
            f"{s['offered_rps']:.3g} req/s",
            fmt_tpm(s["achieved_total_tps"]),
            cell(ttft, stat),
            cell(ttft, "p90"),
            cell(tpot, stat),
            cell(tpot, "p90"),
            f"{s['slo_attainment']:.0%}",
            str(s["failed"]),
            "yes" if s["meets_slo"] else "no",
        )
    console.print(table)
    passing = [s for s in steps if s["meets_slo"]]
    if passing:
        best = max(passing, key=lambda s: s["achieved_total_tps"])
        console.print(
            f"largest measured load meeting the SLOs: {fmt_tpm(best['achieved_total_tps'])}"
            f" (x{best['multiplier']:g} of the target)"
        )
    else:
        console.print("no step met the SLOs")
    if predictions:
        console.print(
            f"{predictions['allocation']}: planner {fmt_tpm(predictions['planned_max_total_tps'])},"
            f" simulator {fmt_tpm(predictions['simulated_max_total_tps'])}"
        )
