"""``pdplan loadtest``: drive a live deployment at a target throughput, beside the predictions."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Unpack

import click

from pdplan.cli.inputs import (
    check_url,
    load_profile_option,
    number_list,
    slo_from,
    timeouts_from,
    workload_from,
)
from pdplan.cli.option_types import LoadtestOptions
from pdplan.cli.options import (
    client_options,
    given,
    json_option,
    options,
    plan_model_option,
    plot_option,
    prompt_mode_option,
    slo_options,
    workload_options,
)
from pdplan.errors import ConfigError
from pdplan.units import parse_duration_s

if TYPE_CHECKING:
    from pdplan.bench.loadtest import LoadtestSettings
    from pdplan.bench.session import Reporter
    from pdplan.bench.workers import Pool
    from pdplan.plan.verify import Prediction
    from pdplan.schema.workload import SLO, Workload

__all__ = ["loadtest"]


def _multipliers(text: str) -> tuple[float, ...]:
    return number_list(text, "--sweep", float, lambda v: 0 < v <= 1000, "multipliers in (0, 1000]")


@click.command("loadtest")
@click.option("--url", required=True, help="Base URL of the deployment (the P/D router).")
@options(workload_options)
@options(slo_options)
@click.option(
    "--duration",
    default="60s",
    show_default=True,
    help="Per step, e.g. 10m, 60s (generated arrivals; a trace replay lasts as it lasts).",
)
@click.option(
    "--sweep",
    "sweep_text",
    default="1.0",
    show_default=True,
    help="Multiples of the target rate to run, e.g. 0.5,0.7,0.9,1.0,1.1.",
)
@click.option(
    "--prefill",
    "prefill_n",
    type=click.IntRange(min=1, max=1000),
    help="Prefill instances behind the URL (with --decode and --profile: predictions).",
)
@click.option(
    "--decode", "decode_n", type=click.IntRange(min=1, max=1000), help="Decode instances."
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("pdplan-loadtest"),
    show_default=True,
    help="Directory for the records and steps (a re-run resumes the steps already measured).",
)
@click.option(
    "--served-model",
    "model_id",
    help="Served model id (default: the first in /v1/models).",
)
@click.option(
    "--workers",
    "workers_text",
    default="auto",
    show_default=True,
    help="Load-generator processes sending each step's schedule (request i goes to worker "
    "i mod N), 1..4096; auto: enough for the busiest step with each at most half busy at ~4.6 "
    "ms of CPU per streamed request (~100 req/s each), at most one per CPU. With --ray: actors "
    "on the cluster.",
)
@click.option(
    "--ray",
    "ray_address",
    help="Run the workers as actors on this Ray cluster (e.g. auto, ray://head:10001); needs "
    "pip install 'pdplan[ray]'.",
)
@click.option(
    "--max-send-lag",
    help="A step whose generator sent later than this (send lag p99 of any worker) fails: it "
    "measured the client. Default: 10ms, or 1% of the TTFT SLO when larger.",
)
@plan_model_option("Planning model for the planner's prediction.", dest="plan_model")
@prompt_mode_option()
@plot_option("the steps' TTFT and TPOT against load, beside the predictions")
@options(client_options)
@json_option
def loadtest(**kw: Unpack[LoadtestOptions]) -> None:
    """Open-loop load of a workload at multiples of its rate: TTFT, TPOT, SLO per step."""
    from pdplan.bench.loadtest import LoadtestSettings, LoadtestStep, run_loadtest
    from pdplan.bench.session import Session
    from pdplan.report.loadtest_tables import render_loadtest

    slo = slo_from(kw)
    workload = workload_from(kw)
    if kw["prefill_n"] or kw["decode_n"]:
        if not (kw["prefill_n"] and kw["decode_n"]):
            raise ConfigError("--prefill and --decode: give both (the deployment's allocation)")
        if not kw["profile_path"]:
            raise ConfigError(
                "--prefill/--decode predict from a profile of this deployment's engine: give "
                "--profile FILE (the embedded paper profile describes 8xH200 nodes)"
            )
    elif given("plan_model"):
        raise ConfigError("--plan-model applies to the predictions: give --prefill and --decode")
    if workload.replays_trace and given("duration"):
        raise ConfigError(
            "--duration and --trace: a trace replays as recorded (as long as it lasts); pick a "
            "part of it with --trace-slice, or draw arrivals with --arrivals poisson"
        )
    multipliers = _multipliers(kw["sweep_text"])
    workers = _workers(kw, max(multipliers) * workload.rate_rps)
    settings = LoadtestSettings(
        workload=workload,
        duration_s=parse_duration_s(kw["duration"], "--duration"),
        slo=slo,
        multipliers=multipliers,
        workers=workers,
        max_send_lag_s=maybe_duration(kw["max_send_lag"], "--max-send-lag"),
    )
    from pdplan.io import check_out_dir

    check_url(kw["url"], "--url")
    timeouts = timeouts_from(kw)
    check_out_dir(kw["out"], "--out")
    predictions = _predictions(kw, workload, slo, settings)

    pool = _pool(kw["ray_address"], workers)

    async def go(reporter: Reporter) -> list[LoadtestStep]:
        async with Session(
            kw["url"],
            kw["out"],
            model=kw["model_id"],
            prompt_mode=kw["prompt_mode"],
            reporter=reporter,
            max_failure_share=1.0,
            timeouts=timeouts,
            pool=pool,
        ) as session:
            return await run_loadtest(session, settings)

    from rich.console import Console

    from pdplan.report.progress import RichReporter

    with RichReporter(Console(stderr=True)) as reporter:
        steps = asyncio.run(go(reporter))
    if kw["as_json"]:
        out = {
            "workload": workload.model_dump(mode="json"),
            "steps": [s.model_dump(mode="json") for s in steps],
            "predictions": None if predictions is None else predictions.model_dump(mode="json"),
        }
        click.echo(json.dumps(out, indent=2, allow_nan=False))
    else:
        render_loadtest(steps, predictions, workload, slo)
    if kw["plot_path"]:
        from pdplan.report.plots import plot_loadtest

        click.echo(
            f"plot written to {plot_loadtest(steps, predictions, slo, kw['plot_path'])}", err=True
        )


def _workers(kw: LoadtestOptions, peak_rps: float) -> int:
    """``--workers``: a count, or ``auto`` (sized from the busiest step's rate)."""
    from pdplan.bench.workers import default_workers

    text = str(kw["workers_text"]).strip().lower()
    if text == "auto":
        return default_workers(peak_rps)
    try:
        count = int(text)
    except ValueError:
        count = 0
    if not 1 <= count <= 4096:
        raise ConfigError(f"--workers: {kw['workers_text']!r} is not auto or a count in 1..4096")
    return count


def _pool(ray_address: str | None, workers: int) -> Pool | None:
    """Workers beyond this process: Ray actors with --ray, processes when more than one."""
    if ray_address:
        from pdplan.bench.ray_pool import RayPool

        return RayPool(ray_address, workers)
    if workers > 1:
        from pdplan.bench.workers import LocalPool

        return LocalPool(workers)
    return None


def maybe_duration(text: str | None, option: str) -> float | None:
    return None if text is None else parse_duration_s(text, option)


def _predictions(
    kw: LoadtestOptions, workload: Workload, slo: SLO, settings: LoadtestSettings
) -> Prediction | None:
    """Planner and simulator capacity (and the simulated sweep) for the stated allocation."""
    m, n = kw["prefill_n"], kw["decode_n"]
    if not m or not n:
        return None
    from pdplan.plan.verify import predict

    profile = load_profile_option(kw["profile_path"])
    return predict(profile, workload, slo, m, n, settings.multipliers, model=kw["plan_model"])
