"""Terminal tables of aggregated plans and of aggregated against disaggregated serving."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from pdplan.capacity.aggregated import AggregatedPlan
from pdplan.plan.modes import ModeComparison
from pdplan.plan.sweep_gaps import SweepGap
from pdplan.report.format import fmt_duration, fmt_tpm, fmt_workload, new_table
from pdplan.schema.parts import AggregatedPart
from pdplan.schema.profile import Profile
from pdplan.schema.workload import SLO, Workload

__all__ = ["aggregated_part_table", "render_aggregated", "render_modes"]


def _slo(slo: SLO) -> str:
    return (
        f"{slo.ttft_stat} TTFT <= {fmt_duration(slo.ttft_s)}, "
        f"{slo.tpot_stat} TPOT <= {fmt_duration(slo.tpot_s)}"
    )


def _step(profile: Profile) -> str:
    agg = profile.aggregated
    assert agg is not None
    s = agg.step
    return (
        f"step {s.base_ms:g} ms + {s.prefill_token_us:g} us/prompt token + "
        f"{s.decode_seq_us:g} us/decode + {s.context_token_ns:g} ns/context token; budget "
        f"{agg.max_batched_tokens:,} tokens, {agg.max_seqs} seqs"
    )


def render_aggregated(
    plan: AggregatedPlan, workload: Workload, slo: SLO, profile: Profile, console: Console
) -> None:
    console.print(f"Workload  {fmt_workload(workload)}")
    console.print(f"SLO       {_slo(slo)}")
    console.print(f"Instance  {_step(profile)}")
    pt = plan.point
    console.print(
        f"One instance sustains {plan.per_instance_rps:.4g} req/s "
        f"({fmt_tpm(plan.per_instance_tps)}), {plan.binding} binds."
    )
    console.print(
        f"Plan: {plan.instances} aggregated instance(s), {plan.gpus} GPUs, sustain "
        f"{fmt_tpm(plan.max_total_tps)}; at the target each runs mean steps of "
        f"{fmt_duration(pt.step_s)} with {pt.decodes:.1f} decodes (TTFT {fmt_duration(pt.ttft_s)}"
        f", TPOT {fmt_duration(pt.tpot_s)}, the SLO's statistics)."
    )


def render_modes(
    c: ModeComparison, workload: Workload, slo: SLO, profile: Profile, console: Console
) -> None:
    console.print(f"Workload  {fmt_workload(workload)}")
    console.print(f"SLO       {_slo(slo)}")
    console.print(f"Aggregated instance  {_step(profile)}")
    table = new_table(
        "Aggregated or disaggregated?",
        "serving",
        "allocation",
        "GPUs",
        "cost/h",
        "sustains",
        "binds",
    )
    a, d, sim = c.aggregated, c.disaggregated, c.aggregated_simulated
    if sim is not None:
        table.add_row(
            "aggregated", f"{sim.instances} instances", str(sim.gpus),
            _money(c.aggregated_cost_per_hour),
            "replayed" if c.disaggregated_replay is not None else "simulated", "-",
        )  # fmt: skip
    if a is not None:
        table.add_row(
            "aggregated" if sim is None else "(fluid model)", f"{a.instances} instances",
            str(a.gpus), "-" if sim is not None else _money(c.aggregated_cost_per_hour),
            fmt_tpm(a.max_total_tps), a.binding,
        )  # fmt: skip
    elif sim is None:
        table.add_row("aggregated", "infeasible", "-", "-", "-", "-")
    if d is not None:
        al = d.allocation
        table.add_row(
            "disaggregated", al.name, str(al.gpus), _money(c.disaggregated_cost_per_hour),
            fmt_tpm(al.max_total_tps), al.binding or "-",
        )  # fmt: skip
    elif c.disaggregated_replay is not None:
        r = c.disaggregated_replay
        table.add_row(
            "disaggregated", r.allocation, str(r.gpus), _money(c.disaggregated_cost_per_hour),
            "replayed", "-",
        )  # fmt: skip
    else:
        table.add_row("disaggregated", "infeasible", "-", "-", "-", "-")
    console.print(table)
    for why in (c.aggregated_infeasible, c.disaggregated_infeasible):
        if why:
            console.print(f"[yellow]{why}[/]")
    unit = "cost" if c.objective == "cost" else "GPUs"
    if c.verdict == "tie":
        console.print(
            f"Verdict: a tie ({unit} within {c.margin:.0%} of each other: inside what the "
            "models can tell apart)"
        )
    elif c.verdict == "neither":
        console.print("Verdict: neither way meets the SLOs")
    elif c.margin is None:
        console.print(f"Verdict: {c.verdict} (the other way cannot meet the SLOs)")
    else:
        console.print(
            f"Verdict: [bold]{c.verdict}[/], the other way needs {c.margin:.0%} more {unit}"
        )
    if c.sensitivity:
        flips = c.sensitive_to
        if flips:
            console.print(
                "The verdict is sensitive to: " + ", ".join(flips) + " (each moved alone)"
            )
        else:
            console.print("No single input moved by 20 % changes the verdict.")
    for gap in c.sweep_check:
        tpot = "" if gap.tpot_gap is None else f", mean TPOT {gap.tpot_gap:+.0%}"
        console.print(
            f"Aggregated sweep at {gap.point.rate_rps:.3g} req/s, measured against simulated: "
            f"mean TTFT {gap.ttft_gap:+.0%}{tpot}"
        )
    if c.sweep_warning:
        console.print(f"[yellow]Warning: {c.sweep_warning}[/]")


def _money(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def aggregated_part_table(part: AggregatedPart, gaps: list[SweepGap] | None = None) -> Table:
    """What ``pdplan profile aggregated`` measured: the fitted step model, its points, the
    rate sweep (with ``gaps``: each point against the simulator)."""
    agg, step = part.aggregated, part.aggregated.step
    table = new_table("Aggregated engine", "measured", "value<")
    table.add_row("step base", f"{step.base_ms:.3g} ms")
    table.add_row("per prompt token", f"{step.prefill_token_us:.3g} us")
    table.add_row("per decode", f"{step.decode_seq_us:.3g} us")
    table.add_row("per context token", f"{step.context_token_ns:.3g} ns")
    table.add_row("overhead", fmt_duration(agg.overhead_s))
    fit = "-" if step.fit_error is None else f"{step.fit_error:.1%} over {step.fit_points} points"
    table.add_row("fit error (relative RMS)", fit)
    for isl, ttft in part.prompt_points:
        table.add_row(f"idle TTFT, ISL {isl}", fmt_duration(ttft))
    for point in agg.sweep:
        tpot = "-" if point.tpot_mean_ms is None else f"{point.tpot_mean_ms:.3g} ms"
        table.add_row(
            f"sweep {point.rate_rps:.3g} req/s",
            f"TTFT {fmt_duration(point.ttft_mean_s)} (p90 {fmt_duration(point.ttft_p90_s)}), "
            f"TPOT {tpot}",
        )
    for gap in gaps or []:
        tpot = "" if gap.tpot_mean_sim_ms is None else f", TPOT {gap.tpot_mean_sim_ms:.3g} ms"
        table.add_row(
            f"  simulated {gap.point.rate_rps:.3g} req/s",
            f"TTFT {fmt_duration(gap.ttft_mean_sim_s)}{tpot} (measured {gap.worst_gap:+.0%})",
        )
    kv = "-" if agg.kv_capacity_tokens is None else f"{agg.kv_capacity_tokens:,} tokens"
    table.add_row("KV capacity", kv)
    return table
