"""Summary tables of a profiling run."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from pdplan.report.format import fmt_duration, fmt_tps
from pdplan.units import ms_to_s

__all__ = ["decode_table", "overhead_table", "prefill_table"]


def prefill_table(part: dict[str, Any]) -> Table:
    table = Table(title="Prefill", title_justify="left")
    for name in ("ISL", "TPmax", "at concurrency", "idle TTFT", "ISL / TPmax"):
        table.add_column(name, justify="right")
    for p in part["max_throughput"]:
        table.add_row(
            f"{p['isl_tokens']:,}",
            fmt_tps(p["max_tps"]),
            str(p["concurrency"]),
            fmt_duration(p["idle_ttft_s"]),
            fmt_duration(p["isl_tokens"] / p["max_tps"]),
        )
    if part.get("ttft_vs_rate"):
        table.caption = "TTFT against Poisson rate: " + "; ".join(
            f"ISL {s['isl_tokens']} @ {s['rate_rps']:.3g} req/s: mean "
            f"{fmt_duration(s['ttft_mean_s'])}, p90 {fmt_duration(s['ttft_p90_s'])}"
            for s in part["ttft_vs_rate"]
        )
    return table


def decode_table(part: dict[str, Any]) -> Table:
    table = Table(title="Decode", title_justify="left")
    for name in ("ISL/OSL", "batch", "TPOT mean", "p90", "p99", "output tok/s", "batch/TPOT"):
        table.add_column(name, justify="right")
    for curve in part["curves"]:
        for p in curve["points"]:
            table.add_row(
                f"{curve['isl_tokens']}/{curve['osl_tokens']}",
                str(p["batch"]),
                f"{p['tpot_ms']:.2f} ms",
                f"{p['tpot_p90_ms']:.2f} ms",
                f"{p['tpot_p99_ms']:.2f} ms",
                f"{p['output_tps']:,.0f}",
                f"{p['batch'] / ms_to_s(p['tpot_ms']):,.0f}",
            )
    return table


def overhead_table(part: dict[str, Any]) -> Table:
    table = Table(title="Overhead (zero load)", title_justify="left")
    for name in ("ISL", "P/D TTFT", "prefill-only TTFT", "P->D transfer"):
        table.add_column(name, justify="right")
    table.add_row(
        f"{part['isl_tokens']:,}",
        fmt_duration(part["pd_ttft_s"]["mean"]),
        fmt_duration(part["prefill_ttft_s"]["mean"]),
        fmt_duration(part["pd_transfer_s"]),
    )
    return table
