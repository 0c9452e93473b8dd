"""Terminal tables for simulation, capacity and plan verification."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from pdplan.plan.verify import VerifyRow
from pdplan.quantiles import Distribution
from pdplan.report.format import fmt_duration, fmt_tpm, fmt_tps, fmt_workload, new_table
from pdplan.schema.verdict import KEEP_UP_SHARE
from pdplan.schema.workload import SLO, Workload
from pdplan.sim.capacity import CapacityResult
from pdplan.sim.config import SimConfig
from pdplan.sim.metrics import SimResult
from pdplan.units import tps_to_tpm

__all__ = ["WIDE_INTERVAL", "latency_table", "render_capacity", "render_sim", "render_verify"]

#: A capacity interval wider than this share of the answer (half width) gets a warning.
WIDE_INTERVAL = 0.05


def _cells(dist: Distribution | None) -> list[str]:
    if dist is None:
        return ["-"] * 4
    return [fmt_duration(v) for v in (dist.mean, dist.p50, dist.p90, dist.p99)]


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def latency_table(result: SimResult, slo: SLO | None, title: str) -> Table:
    table = new_table(title, "", "mean", "p50", "p90", "p99", "SLO", "met by")
    table.add_row(
        "TTFT",
        *_cells(result.ttft_s),
        f"{slo.ttft_stat} <= {fmt_duration(slo.ttft_s)}" if slo else "-",
        _share(result.ttft_attainment),
    )
    if result.tpot_s is None:
        table.caption = "TPOT: no request generates two tokens (no time between tokens)"
    table.add_row(
        "TPOT",
        *_cells(result.tpot_s),
        f"{slo.tpot_stat} <= {fmt_duration(slo.tpot_s)}" if slo else "-",
        _share(result.tpot_attainment),
    )
    return table


def _per_instance(values: list[float], form: str) -> str:
    """Each instance's value, or min / mean / max over many instances."""
    if len(values) <= 8:
        return ", ".join(form.format(v) for v in values)
    mean = sum(values) / len(values)
    low, high = form.format(min(values)), form.format(max(values))
    return f"min {low}, mean {form.format(mean)}, max {high} over {len(values):,} instances"


def _verdict_line(result: SimResult) -> str:
    v = result.verdict
    if v is None:
        return ""
    if v.meets:
        return "[bold green]meets the SLOs[/]"
    why = {
        "no_requests": "no request was measured",
        "generator": "the load generator fell behind its schedule",
        "throughput": "the cluster does not keep up with the offered load",
        "ttft": "TTFT misses its SLO",
        "tpot": "TPOT misses its SLO",
        "errors": "too many errors",
    }[v.failure or "no_requests"]
    return f"[bold red]misses the SLOs[/]: {why}"


def render_sim(result: SimResult, config: SimConfig, slo: SLO | None) -> None:
    console = Console()
    cl = config.cluster
    console.print(
        f"[bold]{cl.name}[/], prefill routing {cl.prefill_routing}, decode routing "
        f"{cl.decode_routing}; {fmt_workload(config.workload)}"
    )
    warmup = "" if config.measured_from == 0 else " (warm-up excluded)"
    console.print(
        latency_table(result, slo, f"Latency, {result.requests_measured:,} requests{warmup}")
    )
    th = result.throughput
    offered = (
        f"offered {fmt_tpm(config.workload.total_tps)} ({result.offered_rate_rps:.4g} req/s), "
        if result.offered_rate_rps is not None
        else ""
    )
    console.print(
        f"{offered}completed {fmt_tpm(th.total_tps)} = {fmt_tps(th.total_tps)} "
        f"({th.rate_rps:.4g} req/s)"
        + (
            f"; both SLOs met by {result.slo_attainment:.1%} of requests"
            if result.slo_attainment is not None
            else ""
        )
    )
    util = _per_instance(result.prefill_utilization, "{:.0%}")
    batch = _per_instance(result.decode_mean_batch, "{:.1f}")
    console.print(
        f"prefill busy: {util}; decode mean batch: {batch}; prefill service SCV "
        f"{result.prefill_service_scv:.2g} (engine), seed {config.seed}"
    )
    if result.verdict is not None:
        console.print(_verdict_line(result))
    arrived = result.arrival_rate_rps
    steady = result.offered_rate_rps is not None  # a replay's rate moves: no keep-up test
    if steady and arrived and th.rate_rps < KEEP_UP_SHARE * arrived:
        console.print(
            f"[bold red]overloaded[/]: requests arrived at {arrived:.4g} req/s and completed at "
            f"{th.rate_rps:.4g} req/s ({arrived / th.rate_rps:.3g}x what this cluster serves): "
            "its queues grow for as long as the run lasts, so the latencies above grow with "
            "--requests and say nothing of a steady state"
        )


def render_capacity(result: CapacityResult, slo: SLO, workload: Workload | None = None) -> None:
    console = Console()
    ci = f"{result.confidence:.0%}"
    console.print(
        f"[bold]{result.prefill_instances}P{result.decode_instances}D[/] sustains "
        f"[bold]{fmt_tpm(result.max_total_tps)}[/] = {fmt_tps(result.max_total_tps)} "
        f"({result.max_rate_rps:.4g} req/s; {ci} interval {fmt_tpm(result.max_total_low_tps)} "
        f"to {fmt_tpm(result.max_total_high_tps)} over {result.replications} seeds of "
        f"{result.requests:,} requests) with {slo.ttft_stat} TTFT <= "
        f"{fmt_duration(slo.ttft_s)} and {slo.tpot_stat} TPOT <= {fmt_duration(slo.tpot_s)}; "
        f"above it {result.binding} fails first"
    )
    half = (result.max_total_high_tps - result.max_total_low_tps) / 2
    if result.max_total_tps and half > WIDE_INTERVAL * result.max_total_tps:
        console.print(
            f"[yellow]the interval is wide (+-{half / result.max_total_tps:.0%}): give more "
            "--requests for a sharper answer[/]"
        )
    console.print(latency_table(result.at_capacity, slo, "Latency at that load"))


def render_verify(rows: list[VerifyRow], console: Console, slo: SLO) -> None:
    table = new_table(
        f"Planned against simulated capacity ({slo.ttft_stat} TTFT, {slo.tpot_stat} TPOT; the "
        "same workload, routing and service variability)",
        "",
        "GPUs",
        "planned",
        "simulated\n(90%)",
        "plan\nerror",
        "binds",
        "meets",
    )

    def m(tps: float) -> str:
        return f"{tps_to_tpm(tps) / 1e6:.2f}"

    for r in rows:
        table.add_row(
            r.allocation,
            "-" if r.gpus is None else str(r.gpus),
            m(r.planned_max_total_tps),
            f"{m(r.simulated_max_total_tps)} ({m(r.simulated_low_tps)}-{m(r.simulated_high_tps)})",
            "-" if r.error is None else f"{r.error:+.1%}",
            r.simulated_binding,
            "yes" if r.simulated_meets_target else "no",
        )
    table.caption = (
        "M TPM; simulated: mean over 5 seeds; plan error: planned / simulated - 1 (positive: "
        "the plan promises more); meets: the simulated capacity reaches the target"
    )
    console.print(table)
