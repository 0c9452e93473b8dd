"""Summary tables of a profiling run."""

from __future__ import annotations

from rich.table import Table

from pdplan.engine.variability import ServiceScvFit, fit_engine_scv
from pdplan.report.format import fmt_duration, fmt_tps, new_table
from pdplan.schema.parts import DecodePart, OverheadPart, PrefillPart
from pdplan.units import ms_to_s

__all__ = ["decode_table", "overhead_table", "prefill_table", "sweep_table"]


def _pm(value: float, low: float | None, high: float | None) -> str:
    """`` +-8%``: half the 90 % interval's width over the value ("" without an interval)."""
    if low is None or high is None or not value:
        return ""
    return f" +-{(high - low) / 2 / value:.0%}"


def prefill_table(part: PrefillPart) -> Table:
    table = new_table(
        "Prefill", "ISL", "TPmax\n(90% interval)", "at\nconcurrency", "idle\nTTFT", "ISL /\nTPmax"
    )
    for p in part.max_throughput:
        table.add_row(
            f"{p.isl_tokens:,}",
            fmt_tps(p.max_tps) + _pm(p.max_tps, p.max_tps_low, p.max_tps_high),
            str(p.concurrency),
            "-" if p.idle_ttft_s is None else fmt_duration(p.idle_ttft_s),
            fmt_duration(p.isl_tokens / p.max_tps),
        )
    drift = part.tpmax_drift
    if drift is not None:
        isl = part.max_throughput[0].isl_tokens
        table.caption = f"TPmax at ISL {isl:,} measured again at the end: {drift:+.1%}" + (
            " (drift beyond 10 %: the engine's speed moved during the profile)"
            if abs(drift) > 0.1
            else ""
        )
    return table


def sweep_table(part: PrefillPart) -> Table | None:
    """TTFT against Poisson arrival rate (the paper's Figure 1 as numbers), if measured."""
    rows = part.ttft_vs_rate
    if not rows:
        return None
    tpmax = {p.isl_tokens: p.max_tps for p in part.max_throughput}
    table = new_table(
        "Prefill TTFT under Poisson arrivals",
        "ISL",
        "rate",
        "busy",
        "mean",
        "p50",
        "p90",
        "p99",
        "requests",
    )
    for r in rows:
        table.add_row(
            f"{r.isl_tokens:,}",
            f"{r.rate_rps:.4g} req/s",
            f"{r.rate_rps * r.isl_tokens / tpmax[r.isl_tokens]:.0%}",
            fmt_duration(r.ttft_mean_s) + _pm(r.ttft_mean_s, r.ttft_mean_low_s, r.ttft_mean_high_s),
            *(fmt_duration(t) for t in (r.ttft_p50_s, r.ttft_p90_s, r.ttft_p99_s)),
            str(r.requests),
        )
    fit = _engine_fit(part)
    if fit is not None:
        kind = "M/D/1-like" if fit.scv == 0 else "M/M/1-like" if abs(fit.scv - 1) < 0.2 else ""
        if fit.trusted:
            scv = (
                f"engine service SCV {fit.scv:.2f}{f' ({kind})' if kind else ''}: median of "
                f"{fit.points} points, 90 % interval {fit.low:.2f}..{fit.high:.2f}; "
                "--plan-model auto plans with it"
            )
        else:
            scv = (
                f"the engine's service SCV fit {fit.doubt()}; --plan-model auto assumes "
                "exponential service (measure with --precision for a usable fit)"
            )
        table.caption = f"mean: +- half its 90 % interval (batch means); {scv}"
    return table


def _engine_fit(part: PrefillPart) -> ServiceScvFit | None:
    """The planner's SCV fit on this part (it reads waits against the idle TTFTs)."""
    from pdplan.bench.assemble import prefill_profile

    return fit_engine_scv(prefill_profile(part))


def decode_table(part: DecodePart) -> Table:
    table = new_table(
        "Decode",
        "ISL/OSL",
        "batch",
        "TPOT\nmean",
        "p90",
        "p99",
        "output\ntok/s",
        "batch /\nTPOT",
    )

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f} ms"

    for curve in part.curves:
        for p in curve.points:
            table.add_row(
                f"{curve.isl_tokens}/{curve.osl_tokens}",
                str(p.batch),
                f"{p.tpot_ms:.2f} ms" + _pm(p.tpot_ms, p.tpot_low_ms, p.tpot_high_ms),
                ms(p.tpot_p90_ms),
                ms(p.tpot_p99_ms),
                "-" if p.output_tps is None else f"{p.output_tps:,.0f}",
                f"{p.batch / ms_to_s(p.tpot_ms):,.0f}",
            )
    return table


def overhead_table(part: OverheadPart) -> Table:
    table = new_table(
        "Overhead (zero load)", "ISL", "P/D TTFT", "prefill-only\nTTFT", "P->D\ntransfer"
    )
    transfer = part.pd_transfer_s
    table.add_row(
        f"{part.isl_tokens:,}",
        fmt_duration(part.pd_ttft_s.mean),
        fmt_duration(part.prefill_ttft_s.mean),
        fmt_duration(transfer) + _pm(transfer, part.pd_transfer_low_s, part.pd_transfer_high_s),
    )
    return table
