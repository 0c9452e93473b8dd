"""Tables of a hardware choice: the chosen mix, every pair, the Pareto front."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from pdplan.plan.hardware import MixCandidate, MixPlan
from pdplan.report.format import fmt_duration, fmt_tpm, new_table

__all__ = ["render_mix"]


def _table(title: str, rows: list[MixCandidate], chosen: MixCandidate | None) -> Table:
    over = any(c.over_budget for c in rows)
    table = new_table(
        title,
        "prefill / decode<",
        "alloc",
        "GPUs",
        "cost/hour",
        "sustains",
        "overhead",
        *(["budget<"] if over else []),
    )
    for c in rows:
        is_chosen = chosen is not None and (c.prefill, c.decode, c.allocation) == (
            chosen.prefill,
            chosen.decode,
            chosen.allocation,
        )
        table.add_row(
            f"{c.prefill} / {c.decode}",  # two names: wrapped at the slash, never cut
            c.allocation,
            str(c.gpus),
            "-" if c.cost_per_hour is None else f"{c.cost_per_hour:,.2f}",
            fmt_tpm(c.max_total_tps),
            fmt_duration(c.overhead_s),
            *(["over" if c.over_budget else "within"] if over else []),
            style="bold green" if is_chosen else ("dim" if c.over_budget else None),
        )
    if over:
        table.caption = "over: beyond --gpu-budget or --max-cost-per-hour, so not a choice"
    return table


def render_mix(mix: MixPlan, console: Console) -> None:
    """The pairs (each one's smallest allocation), the Pareto front, the choice."""
    console.print(
        _table("Smallest allocation of each pair meeting the SLOs", mix.pairs, mix.chosen)
    )
    front = _table(
        f"Pareto front: {'cost' if mix.objective == 'cost' else 'GPUs'} against the throughput "
        "sustained (no allocation is both cheaper and faster)",
        mix.pareto,
        mix.chosen,
    )
    console.print(front)
    for line in mix.infeasible:
        console.print(f"[yellow]infeasible[/] {line}")
    c = mix.chosen
    price = "" if c.cost_per_hour is None else f" at {c.cost_per_hour:,.2f} per hour"
    console.print(
        f"[bold green]Choice: {c.allocation} with prefill on {c.prefill} and decode on "
        f"{c.decode}[/]: {c.gpus} GPUs{price}, sustains {fmt_tpm(c.max_total_tps)} (target "
        f"{fmt_tpm(mix.plan.workload.total_tps)}); TTFT overhead {fmt_duration(c.overhead_s)}, "
        "the slower side's"
    )
