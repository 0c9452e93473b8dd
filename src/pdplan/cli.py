"""The ``pdplan`` command line. Parses, loads, calls one library function, renders.

Exit codes: 0 success; 1 bad input (a value out of range, in an option or a file; options
that do not go together; an unreachable or failing server); 2 a command line that cannot be
parsed (unknown command or option, a missing required option or value); 3 an SLO no
allocation can meet; 70 an internal error (a bug); 130 interrupted.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, NoReturn

import click
from pydantic import ValidationError

from pdplan.cli_common import (
    given,
    load_profile_option,
    maybe,
    options,
    slo_from,
    slo_options,
    workload_from,
    workload_options,
)
from pdplan.errors import ConfigError, InfeasibleSLOError, PdplanError
from pdplan.io import format_validation_error
from pdplan.models.plan import DECODE_ROUTINGS, MODELS, PREFILL_ROUTINGS
from pdplan.units import parse_duration_s, parse_tps

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_INFEASIBLE",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_USAGE",
    "cli",
    "main",
]

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
@options(slo_options)
@click.option("--prefill-max-tps", help="What-if: TPmax of one prefill instance, tok/s.")
@click.option("--overhead", help="What-if: fixed TTFT overhead (transfer, KV move), e.g. 100ms.")
@click.option("--decode-table", help="What-if: decode batch:TPOT-ms pairs, e.g. 10:12.8,20:16.4.")
@click.option("--prefill-tps", help="Theory only: SLO-limited prefill tok/s per instance.")
@click.option("--decode-tps", help="Theory only: SLO-limited decode tok/s per instance.")
@click.option("--prefill-gpus", type=click.IntRange(min=1), help="GPUs per prefill instance.")
@click.option("--decode-gpus", type=click.IntRange(min=1), help="GPUs per decode instance.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
@click.option(
    "--plan-model",
    "--model",
    "model",
    type=click.Choice(MODELS),
    default="auto",
    show_default=True,
    help="auto: queueing with the engine's service variability fitted from the profile's "
    "Poisson sweep (M/M/1-like without one, as the paper); queueing: M/G/1 (M/D/1 for fixed "
    "ISL), bursts, pooling, percentiles, batch fluctuation; paper: M/M/1 + the paper's "
    "decode rule, on the mean rate.",
)
@click.option(
    "--routing",
    type=click.Choice(PREFILL_ROUTINGS),
    default="independent",
    show_default=True,
    help="Prefill: a queue per instance, or one pooled queue.",
)
@click.option(
    "--decode-routing",
    type=click.Choice(DECODE_ROUTINGS),
    default="least_loaded",
    show_default=True,
    help="Decode placement.",
)
@click.option(
    "--slo-window",
    help="With --trace: the SLO statistic must hold in every window of this length (e.g. "
    "5min), not only over the whole replay.",
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
    "--confidence",
    type=click.FloatRange(0.5, 0.999),
    help="Plan on the pessimistic end of the profile's measurement intervals at this "
    "confidence, e.g. 0.9 (profiles measured by pdplan record 90 % intervals).",
)
@click.option(
    "--verify",
    is_flag=True,
    help="Simulate the plan and its neighbours; report planned vs simulated capacity.",
)
def size(**kw: Any) -> None:
    """How many prefill and decode instances meet the target and SLOs (arXiv 2603.04716)."""
    from pdplan import overrides, planner

    workload = workload_from(kw)
    profile = load_profile_option(kw["profile_path"])
    _refuse_mixed(kw)
    if kw["export_engine"]:
        from pdplan.export import check_model_name

        check_model_name(kw["served_model"])
    if kw["trace_path"] and workload.replays_trace:
        from pdplan.cli_trace import size_trace

        size_trace(profile, workload, slo_from(kw), kw)
        return
    if kw["slo_window"]:
        raise ConfigError("--slo-window applies to a trace replay: give --trace FILE")
    if kw["prefill_tps"] or kw["decode_tps"]:
        if not (kw["prefill_tps"] and kw["decode_tps"]):
            raise ConfigError("--prefill-tps and --decode-tps: give both or neither")
        plan = planner.size_from_instance_tps(
            parse_tps(kw["prefill_tps"], "--prefill-tps"),
            parse_tps(kw["decode_tps"], "--decode-tps"),
            workload,
            prefill_gpus=kw["prefill_gpus"] or profile.prefill.gpus_per_instance,
            decode_gpus=kw["decode_gpus"] or profile.decode.gpus_per_instance,
        )
    else:
        profile = overrides.override_profile(
            profile,
            workload,
            prefill_max_tps=maybe(parse_tps, kw["prefill_max_tps"], "--prefill-max-tps"),
            overhead_s=maybe(parse_duration_s, kw["overhead"], "--overhead", allow_zero=True),
            decode_points=maybe(overrides.parse_decode_table, kw["decode_table"], "--decode-table"),
            prefill_gpus=kw["prefill_gpus"],
            decode_gpus=kw["decode_gpus"],
        )
        from pdplan.report.progress import working

        with working("planning"):  # large pools take seconds (fluctuating decode batches)
            plan = planner.size(
                profile,
                workload,
                slo_from(kw),
                model=kw["model"],
                prefill_routing=kw["routing"],
                decode_routing=kw["decode_routing"],
                confidence=kw["confidence"],
            )
    if kw["export_engine"]:
        from pdplan.export import export_warnings, launch_script

        for warning in export_warnings(kw["export_engine"], profile.metadata):
            click.secho(f"warning: {warning}", fg="yellow", err=True)
        script = launch_script(plan, kw["export_engine"], kw["served_model"], profile.metadata)
        click.echo(script, nl=False)
        return
    rows = None
    if kw["verify"]:
        from pdplan.parallel import process_map
        from pdplan.report.progress import working
        from pdplan.verify import verify_plan

        with working("simulating the plan and its neighbours (5 seeds each)"):
            rows = verify_plan(profile, plan, map_fn=process_map())
    _emit(plan, profile.metadata, kw["as_json"], rows)


def _refuse_mixed(kw: dict[str, Any]) -> None:
    """Options that do not apply together: an error naming both, never one silently ignored."""
    pairs = [
        ("export_engine", "--export", "as_json", "--json"),
        ("export_engine", "--export", "verify", "--verify"),
    ]
    theory = ("prefill_tps", "--prefill-tps") if kw["prefill_tps"] else None
    theory = theory or (("decode_tps", "--decode-tps") if kw["decode_tps"] else None)
    if theory is not None:
        for name, option in (
            ("ttft", "--ttft"),
            ("tpot", "--tpot"),
            ("ttft_stat", "--ttft-stat"),
            ("tpot_stat", "--tpot-stat"),
            ("stat", "--stat"),
            ("model", "--plan-model"),
            ("routing", "--routing"),
            ("decode_routing", "--decode-routing"),
            ("prefill_max_tps", "--prefill-max-tps"),
            ("overhead", "--overhead"),
            ("decode_table", "--decode-table"),
            ("verify", "--verify"),
            ("confidence", "--confidence"),
            ("trace_path", "--trace"),
            ("arrivals", "--arrivals"),
            ("isl_dist", "--isl-dist"),
            ("osl_dist", "--osl-dist"),
        ):
            pairs.append((theory[0], theory[1], name, option))
    for a, a_opt, b, b_opt in pairs:
        if kw.get(a) and given(b):
            raise ConfigError(
                f"{a_opt} and {b_opt} do not go together"
                + (
                    ": per-instance throughputs given directly carry no SLO or queueing model"
                    if a in ("prefill_tps", "decode_tps")
                    else ""
                )
            )


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

        render_verify(verified, console, plan.slo)


def _register() -> None:
    from pdplan.cli_loadtest import loadtest
    from pdplan.cli_profile import profile
    from pdplan.cli_sim import capacity, simulate_cmd
    from pdplan.cli_trace import trace_cmd

    cli.add_command(profile)
    cli.add_command(simulate_cmd)
    cli.add_command(capacity)
    cli.add_command(loadtest)
    cli.add_command(trace_cmd)


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
    except click.BadParameter as exc:  # a value out of range: bad input, like any ConfigError
        if isinstance(exc, click.MissingParameter):
            _fail("UsageError", exc.format_message(), EXIT_USAGE)
        _fail("ConfigError", exc.format_message(), EXIT_BAD_INPUT)
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
