"""Terminal tables for ``pdplan trace`` and ``pdplan size --trace``."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from pdplan.plan.trace import AnalyticAllocation, ReplayResult, TracePlan
from pdplan.quantiles import Distribution
from pdplan.report.format import fmt_duration, fmt_tpm, new_table
from pdplan.schema.profile import ProfileMetadata
from pdplan.schema.workload import SLO
from pdplan.traffic.summary import TraceSummary

__all__ = ["render_trace_plan", "render_trace_summary"]


def _num(value: float | None, fmt: str = ".3g") -> str:
    return "-" if value is None else format(value, fmt)


def _window(seconds: float) -> str:
    return f"{seconds / 60:.3g} min" if seconds >= 60 else f"{seconds:.3g} s"


def render_trace_summary(s: TraceSummary, console: Console | None = None) -> None:
    console = console or Console()
    scale = f", replayed x{s.time_scale:.4g}" if s.time_scale != 1 else ""
    console.print(
        f"[bold]{s.source}[/] ({s.format}){scale}: {s.requests:,} requests over "
        f"{s.span_s:,.1f} s, mean {s.mean_rate_rps:.4g} req/s = {fmt_tpm(s.total_tps)}; "
        f"inter-arrival SCV {s.interarrival_scv:.3g} (Poisson: 1)"
    )
    rates = new_table(
        "Rate over time (full windows)",
        "window",
        "windows",
        "mean",
        "peak",
        "peak /\nmean",
        "dispersion\nVar N / E N",
    )
    for r in s.rates:
        ratio = r.peak_rps / r.mean_rps if r.peak_rps and r.mean_rps else None
        rates.add_row(
            _window(r.window_s),
            str(r.windows),
            "-" if r.mean_rps is None else f"{r.mean_rps:.4g} req/s",
            "-" if r.peak_rps is None else f"{r.peak_rps:.4g} req/s",
            _num(ratio, ".2f"),
            _num(r.index_of_dispersion),
        )
    rates.caption = "dispersion 1 at every window: Poisson; growing with the window: the rate moves"
    console.print(rates)
    lengths = new_table("Lengths (tokens)", "", "mean", "p50", "p90", "p99", "max", "SCV")
    for name, ls in (("ISL", s.isl_tokens), ("OSL", s.osl_tokens)):
        lengths.add_row(
            name,
            f"{ls.mean:,.0f}",
            f"{ls.p50:,.0f}",
            f"{ls.p90:,.0f}",
            f"{ls.p99:,.0f}",
            f"{ls.max:,}",
            f"{ls.scv:.2f}",
        )
    console.print(lengths)
    if s.prefix_blocks_seen is not None:
        console.print(
            f"prompt blocks an earlier request already sent: {s.prefix_blocks_seen:.1%} (an "
            "upper bound on the prefix-cache hit rate: one unbounded cache for all instances)"
        )


def _stat(dist: Distribution | None, name: str) -> str:
    return "-" if dist is None else fmt_duration(dist.stat(name))  # type: ignore[arg-type]


def _replay_row(table: Table, label: str, r: ReplayResult, slo: SLO, windowed: bool) -> None:
    w = r.windows
    if windowed and w is not None:  # the statistic that decided: the worst window's
        ttft_2 = "-" if w.worst_ttft_s is None else fmt_duration(w.worst_ttft_s)
        tpot_2 = "-" if w.worst_tpot_s is None else fmt_duration(w.worst_tpot_s)
    else:
        ttft_2, tpot_2 = _stat(r.ttft_s, "p90"), _stat(r.tpot_s, "p90")
    table.add_row(
        label,
        r.allocation,
        "-" if r.gpus is None else str(r.gpus),
        _stat(r.ttft_s, slo.ttft_stat),
        ttft_2,
        _stat(r.tpot_s, slo.tpot_stat),
        tpot_2,
        "-" if r.slo_attainment is None else f"{r.slo_attainment:.0%}",
        "yes" if r.meets_slo else "no",
        style="bold green" if label == "recommended" else None,
    )


def render_trace_plan(
    plan: TracePlan, console: Console, meta: ProfileMetadata | None = None
) -> None:
    """Print a trace plan: the trace, the answers, every replay, the verdict."""
    console.print(_header(plan, meta))
    console.print(Group(_replays_table(plan), Text("")))
    console.print(_verdict(plan))


def _header(plan: TracePlan, meta: ProfileMetadata | None) -> Panel:
    slo, s = plan.slo, plan.trace
    head = Text()
    if meta is not None and (meta.model or meta.hardware):
        head.append("Profile  ", style="bold")
        head.append(" · ".join(p for p in (meta.model, meta.engine, meta.hardware) if p) + "\n")
    head.append("Trace    ", style="bold")
    head.append(
        f"{s.source} ({s.format}) x{s.time_scale:.3g}: {s.requests:,} requests, "
        f"{s.span_s:,.0f} s, mean {s.mean_rate_rps:.4g} req/s ({fmt_tpm(s.total_tps)}), "
        f"inter-arrival SCV {s.interarrival_scv:.2g}\n"
    )
    peak = next((r for r in s.rates if r.window_s == 60 and r.peak_rps), None)
    if peak is not None and peak.peak_rps is not None:
        head.append("         ")
        head.append(f"busiest minute {peak.peak_rps:.4g} req/s\n")
    head.append("SLO      ", style="bold")
    head.append(
        f"{slo.ttft_stat} TTFT <= {fmt_duration(slo.ttft_s)}, {slo.tpot_stat} TPOT <= "
        f"{fmt_duration(slo.tpot_s)}, "
        + (
            f"in every {_window(plan.slo_window_s)} window"
            if plan.slo_window_s
            else "over all requests of the replay"
        )
    )
    return Panel(head, title=f"pdplan size --trace (model: {plan.model})", expand=False)


def _replays_table(plan: TracePlan) -> Table:
    slo, windowed = plan.slo, plan.slo_window_s is not None
    second = "worst\nwindow" if windowed else "p90"
    table = new_table(
        "Allocations replayed on the trace",
        "",
        "alloc",
        "GPUs",
        f"TTFT\n{slo.ttft_stat}",
        f"TTFT\n{second}",
        f"TPOT\n{slo.tpot_stat}",
        f"TPOT\n{second}",
        "SLO\nmet by",
        "meets",
    )
    labels: dict[str, str] = {}
    labels[plan.mean_rate_allocation.allocation] = "mean rate"
    labels[plan.analytic_allocation.allocation] = "analytic"
    labels[plan.allocation.allocation] = "recommended"
    for r in sorted(plan.searched, key=lambda r: (r.gpus or 0, r.allocation)):
        _replay_row(table, labels.get(r.allocation, "searched"), r, slo, windowed)
    a = plan.analytic_allocation
    window = ""
    if windowed and plan.allocation.windows is not None:
        w = plan.allocation.windows
        window = (
            f"worst window: the {slo.ttft_stat} TTFT and {slo.tpot_stat} TPOT of the worst "
            f"{_window(plan.slo_window_s or 0)} window ({w.windows} windows; the recommended "
            f"allocation misses in {w.failed}); "
        )
    table.caption = window + (
        f"analytic (burst-aware; {_methods(a)}) predicts "
        f"{a.allocation}: {slo.ttft_stat} TTFT {fmt_duration(a.predicted_ttft_s)}"
        + (
            f", {slo.tpot_stat} TPOT {fmt_duration(a.predicted_tpot_s)}"
            if a.predicted_tpot_s is not None
            else " (no request decodes: no TPOT)"
        )
    )
    return table


def _methods(a: AnalyticAllocation) -> str:
    """How the analytic answer was computed, per phase."""
    windows = (
        f"{_window(a.window_s)} windows, inter-arrival SCV in windows {a.local_arrival_scv:.2g}"
    )
    prefill = (
        "prefill: each server's wait followed over the trace"
        if a.prefill_method == "transient"
        else f"prefill: GI/G/c per window ({windows})"
    )
    decode = (
        "decode: the balanced pool followed over the trace"
        if a.decode_method == "fluid"
        else f"decode: batch rule per window (dispersion {a.decode_dispersion:.2g})"
    )
    return f"{prefill}; {decode}"


def _gap_text(gap: tuple[int, int]) -> str:
    """The analytic answer against the replay-checked one, read for the user."""
    if gap == (0, 0):
        return "agrees."
    text = f"is off by {gap[0]:+d} prefill, {gap[1]:+d} decode"
    if max(abs(g) for g in gap) == 1:
        # the analytic answer averages over the simulator's routing and noise draws; the
        # replay is one draw, and one instance is about the spread between draws
        return text + " (within one: the replay is one random draw, the analytic its average)."
    return text + "."


def _verdict(plan: TracePlan) -> Text:
    slo, a = plan.slo, plan.analytic_allocation
    chosen, mean = plan.allocation, plan.mean_rate_allocation
    verdict = Text()
    gpus = f" ({chosen.gpus} GPUs)" if chosen.gpus is not None else ""
    verdict.append(f"Recommendation: {chosen.allocation}{gpus}", style="bold green")
    ttft, tpot = _stat(chosen.ttft_s, slo.ttft_stat), _stat(chosen.tpot_s, slo.tpot_stat)
    tpot_text = (
        f"{tpot} {slo.tpot_stat} TPOT" if chosen.tpot_s is not None else "no request decodes"
    )
    verdict.append(
        f", the smallest allocation whose replay meets the SLOs ({ttft} {slo.ttft_stat} TTFT, "
        f"{tpot_text})."
    )
    gap = (
        a.prefill_instances - chosen.prefill_instances,
        a.decode_instances - chosen.decode_instances,
    )
    verdict.append("\nThe analytic model " + _gap_text(gap))
    if mean.allocation != chosen.allocation:
        verdict.append(
            f"\nPlanning on the mean rate ({mean.allocation}) replays at "
            f"{_stat(mean.ttft_s, slo.ttft_stat)} {slo.ttft_stat} TTFT, SLOs met by "
            f"{(mean.slo_attainment or 0):.0%} of requests: it "
            + ("meets them." if mean.meets_slo else "misses them.")
        )
    return verdict
