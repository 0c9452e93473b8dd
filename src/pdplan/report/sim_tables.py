"""Terminal tables for simulation, capacity and plan verification."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from pdplan.models.workload import SLO
from pdplan.report.format import fmt_duration, fmt_tpm, fmt_tps
from pdplan.sim.capacity import CapacityResult
from pdplan.sim.config import SimConfig
from pdplan.sim.metrics import SimResult
from pdplan.units import ms_to_s
from pdplan.verify import VerifyRow

__all__ = ["render_capacity", "render_sim", "render_verify"]


def _latency_table(result: SimResult, slo: SLO | None) -> Table:
    table = Table(title="Latency (warm-up excluded)", title_justify="left")
    for name in ("", "mean", "p50", "p90", "p99", "SLO", "met by"):
        table.add_column(name, justify="right")
    t, p = result.ttft_s, result.tpot_ms
    table.add_row(
        "TTFT",
        *(fmt_duration(v) for v in (t.mean, t.p50, t.p90, t.p99)),
        fmt_duration(slo.ttft_s) if slo else "-",
        f"{result.ttft_attainment:.1%}" if result.ttft_attainment is not None else "-",
    )
    table.add_row(
        "TPOT",
        *(fmt_duration(ms_to_s(v)) for v in (p.mean, p.p50, p.p90, p.p99)),
        fmt_duration(slo.tpot_s) if slo else "-",
        f"{result.tpot_attainment:.1%}" if result.tpot_attainment is not None else "-",
    )
    return table


def render_sim(result: SimResult, config: SimConfig, slo: SLO | None) -> None:
    console = Console()
    cl = config.cluster
    console.print(
        f"[bold]{cl.prefill_instances}P{cl.decode_instances}D[/], prefill routing "
        f"{cl.prefill_routing}, {result.requests_measured:,} requests measured "
        f"(seed {config.seed})"
    )
    console.print(_latency_table(result, slo))
    th = result.throughput
    console.print(
        f"throughput {fmt_tpm(th.total_tps)} = {fmt_tps(th.total_tps)} ({th.rate_rps:.4g} req/s)"
        + (
            f"; both SLOs met by {result.slo_attainment:.1%} of requests"
            if result.slo_attainment is not None
            else ""
        )
    )
    util = ", ".join(f"{u:.0%}" for u in result.prefill_utilization)
    batch = ", ".join(f"{b:.1f}" for b in result.decode_mean_batch)
    console.print(
        f"prefill busy: {util}; decode mean batch: {batch}; prefill service SCV "
        f"{result.prefill_service_scv:.2g}"
    )


def render_capacity(result: CapacityResult, slo: SLO) -> None:
    console = Console()
    console.print(
        f"[bold]{result.prefill_instances}P{result.decode_instances}D[/] sustains "
        f"[bold]{fmt_tpm(result.max_total_tps)}[/] = {fmt_tps(result.max_total_tps)} "
        f"({result.max_rate_rps:.4g} req/s) with {result.stat} TTFT <= "
        f"{fmt_duration(slo.ttft_s)} and {result.stat} TPOT <= {fmt_duration(slo.tpot_s)}; "
        f"above it {result.binding} fails first"
    )
    console.print(_latency_table(result.at_capacity, slo))


def render_verify(rows: list[VerifyRow], console: Console) -> None:
    table = Table(title="Planned against simulated capacity (mean SLOs)", title_justify="left")
    for name in ("", "GPUs", "planned", "simulated", "plan error", "sim binds", "sim meets"):
        table.add_column(name, justify="right")
    for r in rows:
        table.add_row(
            r.allocation,
            "-" if r.gpus is None else str(r.gpus),
            fmt_tpm(r.planned_max_total_tps),
            fmt_tpm(r.simulated_max_total_tps),
            "-" if r.error is None else f"{r.error:+.1%}",
            r.simulated_binding,
            "yes" if r.simulated_meets_target else "no",
        )
    console.print(table)
