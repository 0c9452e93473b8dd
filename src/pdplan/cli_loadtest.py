"""``pdplan loadtest``: drive a live deployment at a target throughput, beside the predictions."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import click

from pdplan.cli_common import (
    length_dist,
    load_profile_option,
    number_list,
    options,
    slo_from,
    target,
    workload_options,
)
from pdplan.quantiles import STATS
from pdplan.units import parse_duration_s

__all__ = ["loadtest"]


def _multipliers(text: str) -> tuple[float, ...]:
    return number_list(text, "--sweep", float, lambda v: v > 0, "multipliers > 0")


@click.command("loadtest")
@click.option("--url", required=True, help="Base URL of the deployment (the P/D router).")
@options(workload_options)
@click.option("--isl-dist", default="fixed", show_default=True, help="ISL distribution.")
@click.option("--osl-dist", default="fixed", show_default=True, help="OSL distribution.")
@click.option("--trace", type=click.Path(dir_okay=False), help="Replay a CSV trace instead.")
@click.option("--duration", default="60s", show_default=True, help="Per step, e.g. 10m, 60s.")
@click.option(
    "--sweep",
    "sweep_text",
    default="1.0",
    show_default=True,
    help="Multiples of the target to run, e.g. 0.5,0.7,0.9,1.0,1.1.",
)
@click.option(
    "--stat",
    type=click.Choice(STATS),
    default="mean",
    show_default=True,
    help="SLO statistic.",
)
@click.option(
    "--prefill",
    "prefill_n",
    type=click.IntRange(min=1),
    help="Prefill instances behind the URL (for the predictions; needs a profile).",
)
@click.option("--decode", "decode_n", type=click.IntRange(min=1), help="Decode instances.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("pdplan-loadtest"),
    show_default=True,
)
@click.option("--model", "model_id", help="Model id (default: the first in /v1/models).")
@click.option(
    "--plan-model",
    type=click.Choice(["paper", "queueing", "auto"]),
    default="auto",
    show_default=True,
    help="Planning model for the planner's prediction.",
)
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), help="PNG of the sweep.")
@click.option("--json", "as_json", is_flag=True)
def loadtest(**kw: Any) -> None:
    """Open-loop load at a target throughput: TTFT, TPOT, SLO attainment per step."""
    from pdplan import io
    from pdplan.bench.loadtest import LoadtestSettings, run_loadtest
    from pdplan.bench.session import Session
    from pdplan.report.loadtest_tables import render_loadtest

    slo = slo_from(kw["ttft"], kw["tpot"], kw["stat"], kw["stat"])
    isl, osl = (
        length_dist(kw["isl_dist"], kw["isl"], "--isl-dist"),
        length_dist(kw["osl_dist"], kw["osl"], "--osl-dist"),
    )
    workload = target(kw["isl"], kw["osl"], kw["tpm"], kw["total_tps"], kw["rps"], 0.0, isl.scv)
    settings = LoadtestSettings(
        rate_rps=workload.total_tps / (isl.mean_tokens + osl.mean_tokens),
        isl=isl,
        osl=osl,
        duration_s=parse_duration_s(kw["duration"], "--duration"),
        slo=slo,
        multipliers=_multipliers(kw["sweep_text"]),
        stat=kw["stat"],
        trace=tuple(io.load_trace(kw["trace"])) if kw["trace"] else None,
    )
    predictions = _predictions(kw, workload, slo, isl, osl, settings)

    async def go(reporter: Any) -> list[dict[str, Any]]:
        async with Session(
            kw["url"], kw["out"], model=kw["model_id"], reporter=reporter, max_failure_share=1.0
        ) as session:
            return await run_loadtest(session, settings)

    from rich.console import Console

    from pdplan.report.progress import RichReporter

    with RichReporter(Console(stderr=True)) as reporter:
        steps = asyncio.run(go(reporter))
    if kw["as_json"]:
        click.echo(json.dumps({"steps": steps, "predictions": predictions}, indent=2))
    else:
        render_loadtest(steps, predictions, workload, slo)
    if kw["plot_path"]:
        from pdplan.report.plots import plot_loadtest

        click.echo(
            f"plot written to {plot_loadtest(steps, predictions, slo, kw['plot_path'])}", err=True
        )


def _predictions(
    kw: dict[str, Any], workload: Any, slo: Any, isl: Any, osl: Any, settings: Any
) -> dict[str, Any] | None:
    """Planner and simulator capacity (and the simulated sweep) for the stated allocation."""
    if not (kw["prefill_n"] and kw["decode_n"]):
        return None
    from pdplan import planner
    from pdplan.sim.capacity import max_rate
    from pdplan.sim.config import ClusterConfig
    from pdplan.sim.sweep import sweep_rates

    profile = load_profile_option(kw["profile_path"])
    planned = planner.rate_allocation(
        profile, workload, slo, kw["prefill_n"], kw["decode_n"], model=kw["plan_model"]
    )
    cluster = ClusterConfig(prefill_instances=kw["prefill_n"], decode_instances=kw["decode_n"])
    sim = max_rate(profile, cluster, isl, osl, slo, stat=kw["stat"], requests=10_000)
    rates = [settings.rate_rps * m for m in settings.multipliers]
    return {
        "allocation": f"{kw['prefill_n']}P{kw['decode_n']}D",
        "plan_model": kw["plan_model"],
        "planned_max_total_tps": planned.max_total_tps,
        "simulated_max_total_tps": sim.max_total_tps,
        "simulated_sweep": [
            p.model_dump(mode="json") for p in sweep_rates(profile, cluster, rates, isl, osl, slo)
        ],
    }
