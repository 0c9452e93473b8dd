"""``pdplan schedule``: the cheapest scaling schedule whose replay of a trace meets the SLOs in
every window, against the static allocation and the autoscaling policies operators run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Unpack

import click

from pdplan.cli.option_types import ScheduleOptions, trace_workload_options
from pdplan.cli.options import (
    json_option,
    options,
    planned_routing_options,
    plot_option,
    seed_option,
    slo_options,
)
from pdplan.cli.options import trace_options as _trace_options
from pdplan.errors import ConfigError
from pdplan.schema.plan import MODELS
from pdplan.sim.config import MAX_SIM_INSTANCES

if TYPE_CHECKING:
    from pdplan.sim.capacity import MapFn

__all__ = ["schedule_cmd"]

SCHEDULE_EXPORTS = ("keda", "hpa", "dynamo-planner")


@click.command("schedule")
@click.option(
    "--profile",
    "profile_path",
    type=click.Path(dir_okay=False),
    help="Profile file (YAML/JSON). Default: the embedded paper profile.",
)
@options(_trace_options)
@options(slo_options)
@click.option(
    "--step",
    default="10min",
    show_default=True,
    help="How often the counts may change, e.g. 10min, 1h (at least 1min).",
)
@click.option(
    "--slo-window",
    help="The SLO statistic must hold in every window of this length, e.g. 10min, 1h. "
    "[default: --step]",
)
@click.option(
    "--scale-up-delay",
    default="3min",
    show_default=True,
    help="From starting an instance to its first served request (scheduling, image, weights, "
    "warm-up), e.g. 90s, 10min. A scale-up is started this long before it is needed and paid "
    "from then.",
)
@options(
    [
        click.option(
            f"--{end}-{phase}",
            type=click.IntRange(min=1, max=MAX_SIM_INSTANCES),
            default=1 if end == "min" else MAX_SIM_INSTANCES,
            show_default=True,
            help=f"{'Fewest' if end == 'min' else 'Most'} {phase} instances at any time.",
        )
        for end in ("min", "max")
        for phase in ("prefill", "decode")
    ]
)
@click.option(
    "--interval",
    default="180s",
    show_default=True,
    help="The throughput policy's adjustment interval (Dynamo's throughput_adjustment_interval).",
)
@click.option(
    "--policies/--no-policies",
    default=True,
    show_default=True,
    help="Also judge the autoscaling policies on the same replay, each at its cheapest safe "
    "setting (a few more replays of the trace).",
)
@click.option(
    "--gpu-cost",
    help="Price of one GPU-hour, e.g. 2.5 (shows the cost beside the GPU-hours). [default: "
    "the profile's metadata.cost_per_gpu_hour]",
)
@options(planned_routing_options)
@click.option(
    "--model",
    type=click.Choice(MODELS),
    default="auto",
    show_default=True,
    help="The queueing model of each step's first guess (the replays decide).",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1, max=256),
    help="Worker processes for the independent replays. [default: one per core]",
)
@click.option(
    "--ray",
    "ray_address",
    help="Run the independent replays as tasks on this Ray cluster (e.g. auto, "
    "ray://head:10001); needs pip install 'pdplan[ray]'. The answer is the same.",
)
@seed_option
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False),
    help="Also write the schedule as CSV (start_s,prefill_instances,decode_instances), the "
    "form simulate --schedule reads.",
)
@click.option(
    "--export",
    type=click.Choice(SCHEDULE_EXPORTS),
    help="Print the schedule for deployment instead of the tables: keda (a ScaledObject per "
    "phase with cron triggers), hpa (the threshold policy's cheapest safe setting as "
    "HorizontalPodAutoscalers), dynamo-planner (the throughput policy's as Dynamo planner "
    "settings).",
)
@plot_option("the rate, the instances per phase and the SLO statistic per window over time")
@json_option
def schedule_cmd(plot_path: Path | None, **kw: Unpack[ScheduleOptions]) -> None:
    """The cheapest scaling schedule that meets the SLOs in every window of a trace."""
    from rich.console import Console

    from pdplan.cli.inputs import (
        load_profile_option,
        slo_from,
        workload_from,
    )
    from pdplan.io import check_writable
    from pdplan.plan.schedule import plan_schedule
    from pdplan.report.progress import working
    from pdplan.units import parse_duration_s

    if not kw["trace_path"]:
        raise ConfigError("--trace is required: a schedule is planned for a trace's traffic")
    step_s = parse_duration_s(kw["step"], "--step")
    window_s = parse_duration_s(kw["slo_window"], "--slo-window") if kw["slo_window"] else None
    delay_s = parse_duration_s(kw["scale_up_delay"], "--scale-up-delay", allow_zero=True)
    interval_s = parse_duration_s(kw["interval"], "--interval")
    if not 10 <= interval_s <= 86_400:
        raise ConfigError(f"--interval must be 10 s to 1 day, got {kw['interval']!r}")
    price = _price(kw["gpu_cost"])
    if kw["csv_path"]:
        check_writable(kw["csv_path"], "--csv")
    map_fn = _map(kw["jobs"], kw["ray_address"])
    profile = load_profile_option(kw["profile_path"])
    workload = workload_from(
        trace_workload_options(kw, kw["trace_path"], kw["profile_path"]), kw["seed"]
    )
    slo = slo_from(kw)
    with working("planning the schedule") as status:
        plan = plan_schedule(
            profile,
            workload,
            slo,
            step_s=step_s,
            slo_window_s=window_s,
            scale_up_delay_s=delay_s,
            min_instances=(kw["min_prefill"], kw["min_decode"]),
            max_instances=(kw["max_prefill"], kw["max_decode"]),
            model=kw["model"],
            prefill_routing=kw["routing"],
            decode_routing=kw["decode_routing"],
            seed=kw["seed"],
            policies=kw["policies"] or kw["export"] in ("hpa", "dynamo-planner"),
            interval_s=interval_s,
            map_fn=map_fn,
            on_progress=lambda what: status.update(f"planning the schedule: {what}"),
        )
    if kw["csv_path"]:
        Path(kw["csv_path"]).write_text(plan.schedule.to_csv(), encoding="utf-8")
        click.echo(f"schedule written to {kw['csv_path']}", err=True)
    if plot_path:
        from pdplan.report.plots import plot_schedule

        click.echo(f"plot written to {plot_schedule(plan, plot_path)}", err=True)
    price = price if price is not None else profile.metadata.cost_per_gpu_hour
    if kw["export"]:
        from pdplan.export.autoscaling import export_schedule

        text, notes = export_schedule(
            plan,
            kw["export"],
            profile.metadata,
            capacity=(plan.capacity.prefill_servers, plan.capacity.decode_batch),
            gpus=(profile.prefill.gpus_per_instance, profile.decode.gpus_per_instance),
            interval_s=interval_s,
        )
        for note in notes:
            click.secho(f"note: {note}", err=True)
        click.echo(text, nl=False)
        return
    if kw["as_json"]:
        out = plan.model_dump(mode="json")
        out["cost_per_gpu_hour"] = price
        click.echo(json.dumps(out, indent=2, allow_nan=False))
        return
    from pdplan.report.schedule_tables import render_schedule

    render_schedule(plan, Console(), price)


def _price(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        price = float(text.strip().removeprefix("$"))
    except ValueError:
        price = float("nan")
    if not 0 < price < 1e6:
        raise ConfigError(
            f"--gpu-cost: {text!r} is not a price per GPU-hour; give a number > 0, e.g. 2.5"
        )
    return price


def _map(jobs: int | None, ray_address: str | None) -> MapFn:
    from pdplan.parallel import process_map, ray_map

    if ray_address:
        if jobs:
            raise ConfigError("--jobs and --ray: Ray places the work; give one of them")
        return ray_map(ray_address)
    return process_map(jobs)
