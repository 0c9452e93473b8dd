"""``pdplan simulate`` and ``pdplan capacity``: what an allocation delivers, by simulation."""

from __future__ import annotations

import json
from typing import Any

import click

from pdplan.cli_common import (
    length_dist,
    load_profile_option,
    options,
    slo_from,
    target,
    workload_options,
)
from pdplan.quantiles import STATS

__all__ = ["capacity", "sim_options", "simulate_cmd"]

sim_options = [
    click.option(
        "--prefill",
        "prefill_n",
        type=click.IntRange(min=1),
        default=3,
        show_default=True,
        help="Prefill instances.",
    ),
    click.option(
        "--decode",
        "decode_n",
        type=click.IntRange(min=1),
        default=4,
        show_default=True,
        help="Decode instances.",
    ),
    click.option(
        "--isl-dist",
        default="fixed",
        show_default=True,
        help="ISL distribution around --isl: fixed, exponential, lognormal:SIGMA, "
        "uniform[:LOW-HIGH], or file:PATH (one length per line).",
    ),
    click.option(
        "--osl-dist",
        default="fixed",
        show_default=True,
        help="OSL distribution around --osl (same forms).",
    ),
    click.option(
        "--routing",
        type=click.Choice(["random", "round_robin", "least_outstanding", "shared_queue"]),
        default="random",
        show_default=True,
        help="Prefill routing (shared_queue: one queue for all).",
    ),
    click.option(
        "--prefill-budget",
        type=click.IntRange(min=1),
        help="Chunked-prefill budget, tokens per step (default: one request per step).",
    ),
    click.option(
        "--prefill-scv",
        type=click.FloatRange(min=0),
        help="Engine variability of prefill service time (SCV; 0 deterministic, 1 "
        "exponential). Default: fitted from the profile's Poisson TTFT sweep, else 0.",
    ),
    click.option(
        "--requests",
        type=click.IntRange(min=100),
        default=20_000,
        show_default=True,
        help="Requests per simulated run.",
    ),
    click.option("--seed", type=int, default=42, show_default=True),
    click.option("--json", "as_json", is_flag=True, help="Print one JSON object."),
]


def _cluster(kw: dict[str, Any]) -> Any:
    from pdplan.sim.config import ClusterConfig

    return ClusterConfig(
        prefill_instances=kw["prefill_n"],
        decode_instances=kw["decode_n"],
        prefill_routing=kw["routing"],
        prefill_budget_tokens=kw["prefill_budget"],
        prefill_service_scv=kw["prefill_scv"],
    )


@click.command("simulate")
@options(workload_options)
@options(sim_options)
@click.option(
    "--trace",
    type=click.Path(dir_okay=False),
    help="CSV trace (arrival_s,isl_tokens,osl_tokens) replayed instead of Poisson.",
)
@click.option("--records", type=click.Path(dir_okay=False), help="Write per-request CSV here.")
def simulate_cmd(trace: str | None, records: str | None, **kw: Any) -> None:
    """Simulate an mPnD allocation at a load: TTFT/TPOT distributions, SLO attainment."""
    from pdplan import io
    from pdplan.report.sim_tables import render_sim
    from pdplan.sim import SimConfig, simulate

    workload = target(kw["isl"], kw["osl"], kw["tpm"], kw["total_tps"], kw["rps"])
    slo = slo_from(kw["ttft"], kw["tpot"])
    isl = length_dist(kw["isl_dist"], kw["isl"], "--isl-dist")
    osl = length_dist(kw["osl_dist"], kw["osl"], "--osl-dist")
    rate = workload.total_tps / (isl.mean_tokens + osl.mean_tokens)
    config = SimConfig(
        cluster=_cluster(kw),
        isl=isl,
        osl=osl,
        requests=kw["requests"],
        seed=kw["seed"],
        **({"trace": io.load_trace(trace)} if trace else {"rate_rps": rate}),
    )
    result = simulate(
        load_profile_option(kw["profile_path"]), config, slo, keep_records=records is not None
    )
    if records and result.records is not None:
        io.write_rows_csv(result.records.rows(), records)
    if kw["as_json"]:
        out = {
            "allocation": f"{kw['prefill_n']}P{kw['decode_n']}D",
            "offered_rate_rps": None if trace else rate,
            **result.model_dump(mode="json"),
        }
        click.echo(json.dumps(out, indent=2))
    else:
        render_sim(result, config, slo)


@click.command("capacity")
@options(workload_options)
@options(sim_options)
@click.option(
    "--stat",
    type=click.Choice(STATS),
    default="mean",
    show_default=True,
    help="SLO statistic (the paper uses the mean).",
)
@click.option(
    "--sweep",
    "sweep_allocs",
    help="Also sweep load for these allocations, e.g. 3P4D,3P3D (the paper's Fig. 3).",
)
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False),
    help="PNG for the sweep (default capacity_sweep.png with --sweep).",
)
def capacity(stat: str, sweep_allocs: str | None, plot_path: str | None, **kw: Any) -> None:
    """The largest total throughput an allocation sustains with the SLOs met (bisection)."""
    from pdplan.report.sim_tables import render_capacity
    from pdplan.sim.capacity import max_rate

    profile = load_profile_option(kw["profile_path"])
    slo = slo_from(kw["ttft"], kw["tpot"])
    isl = length_dist(kw["isl_dist"], kw["isl"], "--isl-dist")
    osl = length_dist(kw["osl_dist"], kw["osl"], "--osl-dist")
    result = max_rate(
        profile,
        _cluster(kw),
        isl,
        osl,
        slo,
        stat=stat,  # type: ignore[arg-type]
        requests=kw["requests"],
        seed=kw["seed"],
    )
    sweep = None
    if sweep_allocs:
        from pdplan.sim.sweep import parse_allocations, sweep_load

        sweep = sweep_load(
            profile,
            parse_allocations(sweep_allocs),
            isl,
            osl,
            slo,
            base=_cluster(kw),
            requests=kw["requests"],
            seed=kw["seed"],
        )
    if kw["as_json"]:
        out = result.model_dump(mode="json")
        if sweep is not None:
            out["sweep"] = [row.model_dump(mode="json") for row in sweep]
        click.echo(json.dumps(out, indent=2))
    else:
        render_capacity(result, slo)
    if sweep is not None:
        from pdplan.report.plots import plot_capacity_sweep

        path = plot_capacity_sweep(sweep, slo, plot_path or "capacity_sweep.png")
        click.echo(f"plot written to {path}", err=True)
