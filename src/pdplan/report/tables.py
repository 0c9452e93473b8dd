"""Rich terminal rendering of a plan."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from pdplan.report.format import (
    fmt_arrivals,
    fmt_duration,
    fmt_lengths,
    fmt_share,
    fmt_tpm,
    fmt_tps,
    new_table,
)
from pdplan.schema.plan import Allocation, Plan
from pdplan.schema.profile import INTERVAL_CONFIDENCE, ProfileMetadata

__all__ = ["render_plan"]


def _header(plan: Plan, meta: ProfileMetadata | None) -> Text:
    w = plan.workload
    text = Text()
    if meta is not None and (meta.model or meta.hardware):
        parts = [meta.model, meta.engine and f"{meta.engine} {meta.engine_version or ''}".strip()]
        parts.append(meta.hardware and f"{meta.hardware}")
        text.append("Profile   ", style="bold")
        text.append(" · ".join(p for p in parts if p) + "\n")
    text.append("Workload  ", style="bold")
    cached = f" ({w.prefix_hit_rate:.0%} prefix-cached)" if w.prefix_hit_rate else ""
    text.append(f"ISL {fmt_lengths(w.isl)}{cached}, OSL {fmt_lengths(w.osl)} tokens")
    text.append("\n" if w.arrivals.kind == "poisson" else f"; {fmt_arrivals(w)}\n")
    text.append("Target    ", style="bold")
    text.append(f"{fmt_tpm(w.total_tps)} = {fmt_tps(w.total_tps)} = {plan.rate_rps:.4g} req/s\n")
    text.append("SLO       ", style="bold")
    if plan.slo is None:
        text.append("none (per-instance throughputs given)")
    else:
        text.append(
            f"{plan.slo.ttft_stat} TTFT <= {fmt_duration(plan.slo.ttft_s)}, "
            f"{plan.slo.tpot_stat} TPOT <= {fmt_duration(plan.slo.tpot_s)}"
        )
    return text


def _phase_table(plan: Plan) -> Table:
    table = new_table(
        f"Per instance (model: {plan.model})",
        "phase",
        "SLO-limited",
        "operating point<",
        "instances",
    )
    p, d = plan.prefill, plan.decode
    if p.max_tps is not None and plan.slo is not None and p.overhead_s is not None:
        how_p = (  # one clause a line: a narrow terminal wraps words, not quantities
            f"{p.queue_model or 'M/M/1'}, TPmax {fmt_tps(p.max_tps)}, "
            f"{(p.utilization or 0):.1%} busy\n"
            f"TTFT {fmt_duration(plan.slo.ttft_s)} - {fmt_duration(p.overhead_s)} overhead"
        )
        if p.service_scv_source and plan.model != "paper":
            how_p += f"\n{p.service_scv_source}"
    else:
        how_p = "given"
    if d.batch is not None and d.tpot_s is not None:
        how_d = f"batch {d.batch} at TPOT {fmt_duration(d.tpot_s)} (limit: {d.batch_limit})"
        if d.mean_batch is not None:
            bursts = (
                f", arrival dispersion {d.arrival_dispersion:.2g}"
                if d.arrival_dispersion not in (None, 1.0)
                else ""
            )
            how_d = f"batch fluctuates, mean {d.mean_batch} at the target{bursts}\nB* " + how_d[6:]
    else:
        how_d = "given"
    table.add_row("prefill", fmt_tps(p.effective_input_tps), how_p, f"{p.instances:.2f}")
    table.add_row("decode", fmt_tps(d.effective_output_tps), how_d, f"{d.instances:.2f}")
    table.caption = (
        f"input tok/s for prefill, output tok/s for decode; P:D ratio {plan.pd_ratio:.2f} : 1"
    )
    return table


def _allocation_table(plan: Plan) -> Table:
    table = new_table(
        "Whole-instance allocations", "", "GPUs", "sustains", "tok/s", "target", "binding", "meets"
    )
    rows: list[Allocation] = sorted(
        [*plan.alternatives, plan.allocation], key=lambda a: (a.gpus or 0, -a.max_total_tps)
    )
    for a in rows:
        chosen = a == plan.allocation
        table.add_row(
            f"{a.name}{' plan' if chosen else ''}",
            "-" if a.gpus is None else str(a.gpus),
            fmt_tpm(a.max_total_tps),
            f"{a.max_total_tps:,.0f}",
            f"{a.share_of_target:.0%}",
            a.binding,
            "yes" if a.meets_target else "no",
            style="bold green" if chosen else None,
        )
    return table


def _verdict(plan: Plan) -> Text:
    a = plan.allocation
    gpus = f" ({a.gpus} GPUs)" if a.gpus is not None else ""
    text = Text()
    text.append(f"Plan: {a.name}{gpus}", style="bold green")
    text.append(
        f" sustains {fmt_tpm(a.max_total_tps)}, {a.share_of_target:.0%} of the target; "
        f"{a.binding} binds."
    )
    if plan.capacity_low_tps is not None and plan.capacity_high_tps is not None:
        conf = fmt_share(plan.confidence or INTERVAL_CONFIDENCE)
        text.append(
            f"\nWith the profile's {conf} measurement intervals it sustains "
            f"{fmt_tpm(plan.capacity_low_tps)} to {fmt_tpm(plan.capacity_high_tps)} "
            f"({plan.capacity_low_tps / plan.workload.total_tps:.0%}-"
            f"{plan.capacity_high_tps / plan.workload.total_tps:.0%} of the target)."
        )
    if plan.confidence is not None:
        text.append(
            f"\nPlanned on the pessimistic end of the {fmt_share(plan.confidence)} intervals "
            "(--confidence): every measured value at its unlucky bound."
        )
    cheaper = [alt for alt in plan.alternatives if (alt.gpus or 0) < (a.gpus or 0)]
    if cheaper:
        best = max(cheaper, key=lambda alt: alt.max_total_tps)
        text.append(
            f"\nNearest smaller: {best.name} reaches {best.share_of_target:.0%} of the target "
            f"({fmt_tpm(best.max_total_tps)}, {best.binding}-bound)."
        )
    return text


def render_plan(plan: Plan, console: Console, meta: ProfileMetadata | None = None) -> None:
    """Print a plan: header, per-phase table, allocation table, verdict."""
    console.print(Panel(_header(plan, meta), title="pdplan size", expand=False))
    console.print(Group(_phase_table(plan), Text(""), _allocation_table(plan), Text("")))
    console.print(_verdict(plan))
