"""``pdplan simulate`` and ``pdplan capacity``: what an allocation delivers, by simulation."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import TYPE_CHECKING, Unpack

import click

from pdplan.cli.inputs import load_profile_option, slo_from, workload_from
from pdplan.cli.option_types import CapacityOptions, SimOptions, SimulateOptions
from pdplan.cli.options import (
    given,
    json_option,
    options,
    plot_option,
    seed_option,
    slo_options,
    workload_options,
)
from pdplan.errors import ConfigError
from pdplan.schema.routing import DECODE_ROUTINGS, PREFILL_ROUTINGS
from pdplan.schema.trace import MAX_TRACE_REQUESTS

if TYPE_CHECKING:
    from pdplan.schema.workload import SLO, Workload
    from pdplan.sim.config import ClusterConfig

__all__ = ["capacity", "sim_options", "simulate_cmd"]

_RATE_OPTIONS = (
    ("tpm", "--tpm"),
    ("total_tps", "--total-tps"),
    ("rps", "--rps"),
    ("time_scale", "--time-scale"),
    ("trace_rps", "--trace-rps"),
)

sim_options = [
    click.option(
        "--prefill",
        "prefill_n",
        type=click.IntRange(min=1, max=1000),
        default=3,
        show_default=True,
        help="Prefill instances (at most 1,000).",
    ),
    click.option(
        "--decode",
        "decode_n",
        type=click.IntRange(min=1, max=1000),
        default=4,
        show_default=True,
        help="Decode instances (at most 1,000).",
    ),
    click.option(
        "--routing",
        type=click.Choice(PREFILL_ROUTINGS),
        default="random",
        show_default=True,
        help="Prefill routing (random: independent queues, as planned; pooled: one pooled queue).",
    ),
    click.option(
        "--decode-routing",
        type=click.Choice(DECODE_ROUTINGS),
        default="least_loaded",
        show_default=True,
        help="Decode placement.",
    ),
    click.option(
        "--prefill-budget",
        type=click.IntRange(min=1),
        help="Chunked-prefill budget, tokens per step (default: one request per step).",
    ),
    click.option(
        "--prefill-scv",
        type=click.FloatRange(min=0, max=100),
        help="Engine variability of prefill service time (SCV; 0 deterministic, 1 "
        "exponential). Default: as the planner's auto model, fitted from the profile's Poisson "
        "TTFT sweep, else 1.",
    ),
    click.option(
        "--requests",
        type=click.IntRange(min=100, max=MAX_TRACE_REQUESTS),
        default=20_000,
        show_default=True,
        help="Requests per simulated run (a trace replay: the whole trace).",
    ),
    seed_option,
    json_option,
]


def _cluster(kw: SimOptions) -> ClusterConfig:
    from pdplan.sim.config import ClusterConfig

    return ClusterConfig(
        prefill_instances=kw["prefill_n"],
        decode_instances=kw["decode_n"],
        prefill_routing=kw["routing"],
        decode_routing=kw["decode_routing"],
        prefill_budget_tokens=kw["prefill_budget"],
        prefill_service_scv=kw["prefill_scv"],
    )


@click.command("simulate")
@options(workload_options)
@options(slo_options)
@options(sim_options)
@click.option("--records", type=click.Path(dir_okay=False), help="Write per-request CSV here.")
@click.option(
    "--schedule",
    "schedule_path",
    type=click.Path(dir_okay=False),
    help="Replay a trace on counts that change over time instead of --prefill/--decode: the "
    "CSV (or JSON) that pdplan schedule writes.",
)
@click.option(
    "--scale-up-delay",
    default="3min",
    show_default=True,
    help="With --schedule: from starting an instance to its first served request.",
)
@click.option(
    "--slo-window",
    default="10min",
    show_default=True,
    help="With --schedule: judge the SLOs in every window of this length.",
)
def simulate_cmd(
    records: str | None,
    schedule_path: str | None,
    scale_up_delay: str,
    slo_window: str,
    **kw: Unpack[SimulateOptions],
) -> None:
    """Simulate an mPnD allocation under a workload: TTFT/TPOT distributions, SLO verdict."""
    from pdplan import io
    from pdplan.report.progress import working
    from pdplan.report.sim_tables import render_sim
    from pdplan.sim import SimConfig, simulate

    if records:
        io.check_writable(records, "--records")
    workload = workload_from(kw, kw["seed"])
    slo = slo_from(kw)
    if schedule_path:
        _simulate_schedule(kw, schedule_path, scale_up_delay, slo_window, workload, slo)
        return
    config = SimConfig(
        cluster=_cluster(kw), workload=workload, requests=kw["requests"], seed=kw["seed"]
    )
    with working(f"simulating {config.cluster.name}"):
        result = simulate(
            load_profile_option(kw["profile_path"]), config, slo, keep_records=records is not None
        )
    if records and result.records is not None:
        io.write_rows_csv(result.records.rows(), records)
    if kw["as_json"]:
        out = {
            "allocation": config.cluster.name,
            "workload": workload.model_dump(mode="json"),
            "slo": slo.model_dump(mode="json"),
            "meets_slo": result.meets_slo,
            **result.model_dump(mode="json"),
        }
        click.echo(json.dumps(out, indent=2, allow_nan=False))
    else:
        render_sim(result, config, slo)


def _simulate_schedule(
    kw: SimulateOptions,
    path: str,
    delay_text: str,
    window_text: str,
    workload: Workload,
    slo: SLO,
) -> None:
    """``simulate --schedule``: the trace replayed on a schedule, judged window by window."""
    from pdplan import io
    from pdplan.plan.schedule import replay_schedule
    from pdplan.report.progress import working
    from pdplan.report.schedule_tables import render_schedule_replay
    from pdplan.sim import SimConfig
    from pdplan.units import parse_duration_s

    if not workload.replays_trace:
        raise ConfigError("--schedule replays a trace: give --trace FILE")
    clash = [o for n, o in (("prefill_n", "--prefill"), ("decode_n", "--decode")) if given(n)]
    if clash:
        raise ConfigError(f"--schedule and {' and '.join(clash)}: the schedule gives the counts")
    delay = parse_duration_s(delay_text, "--scale-up-delay", allow_zero=True)
    window = parse_duration_s(window_text, "--slo-window")
    if window < 10:
        raise ConfigError(f"--slo-window must be at least 10 s, got {window_text!r}")
    schedule = io.load_schedule(path, delay)
    span = workload.requests(0, random.Random(0)).arrival_s[-1]
    if delay >= span:
        raise ConfigError(
            f"--scale-up-delay {delay_text} is not shorter than the trace ({span:.6g} s from its "
            "first request): no scale-up would serve before it ends"
        )
    config = SimConfig(cluster=_cluster(kw), workload=workload, seed=kw["seed"])
    with working("replaying the schedule"):
        replay = replay_schedule(
            load_profile_option(kw["profile_path"]), config, schedule, slo, window
        )
    if kw["as_json"]:
        out = {"schedule": schedule.model_dump(mode="json"), **replay.model_dump(mode="json")}
        out["meets_slo"] = replay.meets_slo
        click.echo(json.dumps(out, indent=2, allow_nan=False))
        return
    render_schedule_replay(replay, slo)


@click.command("capacity")
@options(workload_options)
@options(slo_options)
@options(sim_options)
@click.option(
    "--sweep-allocations",
    "sweep_allocs",
    help="Also sweep load for these allocations, e.g. 3P4D,3P3D (the paper's Fig. 3).",
)
@plot_option("the sweep of --sweep-allocations (TTFT and TPOT against load)")
def capacity(
    sweep_allocs: str | None, plot_path: Path | None, **kw: Unpack[CapacityOptions]
) -> None:
    """The largest load of the workload an allocation sustains with the SLOs met (bisection
    on its mean rate: more arrivals, or the trace replayed faster)."""
    from pdplan.report.progress import working
    from pdplan.report.sim_tables import render_capacity
    from pdplan.sim.capacity import max_rate

    for name, option in _RATE_OPTIONS:
        if given(name):
            raise ConfigError(
                f"{option} does not apply to capacity: it searches the largest rate the "
                "allocation sustains (the workload gives only the lengths and arrival process)"
            )
    profile = load_profile_option(kw["profile_path"])
    slo = slo_from(kw)
    workload = workload_from(kw, kw["seed"])
    allocations = None
    if sweep_allocs is not None:
        from pdplan.sim.sweep import parse_allocations

        allocations = parse_allocations(sweep_allocs)
    elif plot_path:
        raise ConfigError("--plot draws the sweep: give --sweep-allocations, e.g. 3P4D,3P3D")
    from pdplan.parallel import process_map

    with working(f"searching the largest load {_cluster(kw).name} sustains (5 seeds)"):
        result = max_rate(
            profile,
            _cluster(kw),
            workload,
            slo,
            requests=kw["requests"],
            seed=kw["seed"],
            map_fn=process_map(),
        )
    sweep = None
    if allocations is not None:
        from pdplan.sim.sweep import sweep_load

        with working("sweeping the load"):
            sweep = sweep_load(
                profile,
                allocations,
                workload,
                slo,
                base=_cluster(kw),
                requests=kw["requests"],
                seed=kw["seed"],
            )
    if kw["as_json"]:
        out = result.model_dump(mode="json")
        if sweep is not None:
            out["sweep"] = [row.model_dump(mode="json") for row in sweep]
        click.echo(json.dumps(out, indent=2, allow_nan=False))
    else:
        render_capacity(result, slo)
    if sweep is not None and plot_path is not None:
        from pdplan.report.plots import plot_capacity_sweep

        click.echo(f"plot written to {plot_capacity_sweep(sweep, slo, plot_path)}", err=True)
