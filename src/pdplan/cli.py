"""The ``pdplan`` command line. Parses, loads, calls one library function, renders.

Exit codes: 0 success; 1 bad input (file, field, value); 2 bad command-line usage;
3 an SLO no allocation can meet; 70 an internal error (a bug); 130 interrupted.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, NoReturn, cast

import click
from pydantic import ValidationError

from pdplan.cli_common import (
    load_profile_option,
    maybe,
    options,
    slo_from,
    target,
    workload_options,
)
from pdplan.errors import ConfigError, InfeasibleSLOError, PdplanError
from pdplan.io import format_validation_error
from pdplan.quantiles import STATS
from pdplan.units import parse_duration_s, parse_tps

__all__ = ["EXIT_BAD_INPUT", "EXIT_INFEASIBLE", "EXIT_USAGE", "cli", "main"]

EXIT_BAD_INPUT = 1
EXIT_USAGE = 2
EXIT_INFEASIBLE = 3
EXIT_INTERRUPTED = 130
EXIT_INTERNAL = 70


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="pdplan")
def cli() -> None:
    """Size prefill/decode disaggregated LLM serving for a throughput target and SLOs."""


@cli.command()
@options(workload_options)
@click.option(
    "--prefix-hit-rate",
    type=click.FloatRange(0, 1, max_open=True),
    default=0.0,
    help="Share of input tokens served from the prefix cache.",
)
@click.option("--prefill-max-tps", help="What-if: TPmax of one prefill instance, tok/s.")
@click.option("--overhead", help="What-if: fixed TTFT overhead (transfer, KV move), e.g. 100ms.")
@click.option("--decode-table", help="What-if: decode batch:TPOT-ms pairs, e.g. 10:12.8,20:16.4.")
@click.option("--prefill-tps", help="Theory only: SLO-limited prefill tok/s per instance.")
@click.option("--decode-tps", help="Theory only: SLO-limited decode tok/s per instance.")
@click.option("--prefill-gpus", type=click.IntRange(min=1), help="GPUs per prefill instance.")
@click.option("--decode-gpus", type=click.IntRange(min=1), help="GPUs per decode instance.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
@click.option(
    "--model",
    type=click.Choice(["paper", "queueing", "auto"]),
    default="auto",
    show_default=True,
    help="auto: queueing with the engine's service variability fitted from the profile's "
    "Poisson sweep (M/M/1-like without one, as the paper); queueing: M/G/1 (M/D/1 for fixed "
    "ISL), pooling, percentiles, batch fluctuation; paper: M/M/1 + the paper's decode rule.",
)
@click.option(
    "--ttft-stat",
    type=click.Choice(STATS),
    default="mean",
    show_default=True,
    help="TTFT statistic the SLO applies to.",
)
@click.option(
    "--tpot-stat",
    type=click.Choice(STATS),
    default="mean",
    show_default=True,
    help="TPOT statistic the SLO applies to.",
)
@click.option(
    "--routing",
    type=click.Choice(["independent", "pooled"]),
    default="independent",
    show_default=True,
    help="Prefill: a queue per instance, or one pooled queue.",
)
@click.option(
    "--decode-routing",
    type=click.Choice(["least_loaded", "random"]),
    default="least_loaded",
    show_default=True,
    help="Decode placement.",
)
@click.option(
    "--isl-dist",
    default="fixed",
    show_default=True,
    help="ISL distribution around --isl (fixed, exponential, lognormal:SIGMA, uniform).",
)
@click.option(
    "--export",
    "export_engine",
    type=click.Choice(["vllm", "sglang"]),
    help="Print launch commands for the planned allocation instead of the tables.",
)
@click.option(
    "--served-model", default="MODEL", show_default=True, help="Model name or path for --export."
)
@click.option(
    "--verify",
    is_flag=True,
    help="Simulate the plan and its neighbours; report planned vs simulated capacity.",
)
def size(
    profile_path: str | None,
    isl: int,
    osl: int,
    ttft: str,
    tpot: str,
    tpm: str | None,
    total_tps: str | None,
    rps: str | None,
    prefix_hit_rate: float,
    prefill_max_tps: str | None,
    overhead: str | None,
    decode_table: str | None,
    prefill_tps: str | None,
    decode_tps: str | None,
    prefill_gpus: int | None,
    decode_gpus: int | None,
    as_json: bool,
    model: str,
    ttft_stat: str,
    tpot_stat: str,
    routing: str,
    decode_routing: str,
    isl_dist: str,
    export_engine: str | None,
    served_model: str,
    verify: bool,
) -> None:
    """How many prefill and decode instances meet the target and SLOs (arXiv 2603.04716)."""
    from pdplan import overrides, planner
    from pdplan.sim.lengths import parse_length_spec

    scv = parse_length_spec(isl_dist, isl, "--isl-dist").scv
    workload = target(isl, osl, tpm, total_tps, rps, prefix_hit_rate, scv)
    profile = load_profile_option(profile_path)
    if prefill_tps or decode_tps:
        if not (prefill_tps and decode_tps):
            raise ConfigError("--prefill-tps and --decode-tps: give both or neither")
        plan = planner.size_from_instance_tps(
            parse_tps(prefill_tps, "--prefill-tps"),
            parse_tps(decode_tps, "--decode-tps"),
            workload,
            prefill_gpus=prefill_gpus or profile.prefill.gpus_per_instance,
            decode_gpus=decode_gpus or profile.decode.gpus_per_instance,
        )
    else:
        profile = overrides.override_profile(
            profile,
            workload,
            prefill_max_tps=maybe(parse_tps, prefill_max_tps, "--prefill-max-tps"),
            overhead_s=maybe(parse_duration_s, overhead, "--overhead", allow_zero=True),
            decode_points=maybe(overrides.parse_decode_table, decode_table, "--decode-table"),
            prefill_gpus=prefill_gpus,
            decode_gpus=decode_gpus,
        )
        plan = planner.size(
            profile,
            workload,
            slo_from(ttft, tpot, ttft_stat, tpot_stat),
            model=cast(planner.Model, model),
            prefill_routing=cast(planner.PrefillRouting, routing),
            decode_routing=cast(planner.DecodeRouting, decode_routing),
        )
    if export_engine:
        from pdplan.export import launch_script

        click.echo(launch_script(plan, cast("Any", export_engine), served_model), nl=False)
        return
    rows = None
    if verify:
        if plan.slo is None:
            raise ConfigError("--verify needs a profile and SLOs, not --prefill-tps/--decode-tps")
        from pdplan.verify import verify_plan

        rows = verify_plan(profile, plan, plan.slo)
    _emit(plan, profile.metadata, as_json, rows)


def _emit(plan: Any, meta: Any, as_json: bool, verified: list[Any] | None) -> None:
    for warning in plan.warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    if as_json:
        out = plan.model_dump(mode="json")
        if verified is not None:
            out["verify"] = [row.model_dump(mode="json") for row in verified]
        click.echo(json.dumps(out, indent=2))
        return
    from rich.console import Console

    from pdplan.report.tables import render_plan

    console = Console()
    render_plan(plan, console, meta)
    if verified is not None:
        from pdplan.report.sim_tables import render_verify

        render_verify(verified, console)


def _register() -> None:
    from pdplan.cli_loadtest import loadtest
    from pdplan.cli_profile import profile
    from pdplan.cli_sim import capacity, simulate_cmd

    cli.add_command(profile)
    cli.add_command(simulate_cmd)
    cli.add_command(capacity)
    cli.add_command(loadtest)


_register()


def _fail(kind: str, message: str, code: int) -> NoReturn:
    click.echo(f"{kind}: {message}", err=True)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI; print one line per error, never a traceback."""
    try:
        code = cli.main(args=argv, prog_name="pdplan", standalone_mode=False)
    except InfeasibleSLOError as exc:
        _fail(type(exc).__name__, str(exc), EXIT_INFEASIBLE)
    except PdplanError as exc:
        _fail(type(exc).__name__, str(exc), EXIT_BAD_INPUT)
    except click.exceptions.Abort:
        _fail("Interrupted", "stopped by the user", EXIT_INTERRUPTED)
    except click.ClickException as exc:
        _fail("UsageError", exc.format_message(), exc.exit_code)
    except KeyboardInterrupt:
        _fail("Interrupted", "stopped by the user", EXIT_INTERRUPTED)
    except ValidationError as exc:
        _fail("ConfigError", format_validation_error(exc, "input"), EXIT_BAD_INPUT)
    except Exception as exc:  # a bug: still one line, the traceback only on request
        if os.environ.get("PDPLAN_DEBUG"):
            raise
        _fail(
            "InternalError",
            f"{type(exc).__name__}: {exc} (a pdplan bug: please report it; "
            "PDPLAN_DEBUG=1 shows the traceback)",
            EXIT_INTERNAL,
        )
    sys.exit(code if isinstance(code, int) else 0)
