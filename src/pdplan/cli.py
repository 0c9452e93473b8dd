"""The ``pdplan`` command line. Parses, loads, calls one library function, renders.

Exit codes: 0 success; 1 bad input (file, field, value); 2 bad command-line usage;
3 an SLO no allocation can meet; 130 interrupted.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click

from pdplan.errors import ConfigError, InfeasibleSLOError, PdplanError
from pdplan.units import parse_duration_s, parse_rps, parse_tpm, parse_tps

__all__ = ["EXIT_BAD_INPUT", "EXIT_INFEASIBLE", "EXIT_USAGE", "cli", "main"]

EXIT_BAD_INPUT = 1
EXIT_USAGE = 2
EXIT_INFEASIBLE = 3
EXIT_INTERRUPTED = 130

_PAPER = "the paper's worked example"
T = TypeVar("T")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="pdplan")
def cli() -> None:
    """Size prefill/decode disaggregated LLM serving for a throughput target and SLOs."""


def _target(
    isl: int, osl: int, tpm: str | None, total_tps: str | None, rps: str | None, hit: float
) -> Any:
    from pdplan.models.workload import Workload

    given = [name for name, v in (("--tpm", tpm), ("--total-tps", total_tps), ("--rps", rps)) if v]
    if len(given) > 1:
        raise ConfigError(
            f"throughput target: got {' and '.join(given)}; give exactly one of --tpm, "
            "--total-tps or --rps"
        )
    shape: dict[str, Any] = {"isl_tokens": isl, "osl_tokens": osl, "prefix_hit_rate": hit}
    if rps:
        return Workload.from_rps(rate_rps=parse_rps(rps), **shape)
    if total_tps:
        return Workload(total_tps=parse_tps(total_tps), **shape)
    return Workload.from_tpm(tpm=parse_tpm(tpm or "5M"), **shape)


@cli.command()
@click.option(
    "--profile",
    "profile_path",
    type=click.Path(dir_okay=False),
    help="Profile file (YAML/JSON). Default: the embedded paper profile.",
)
@click.option(
    "--isl",
    type=click.IntRange(min=1),
    default=6144,
    show_default=True,
    help=f"Input tokens per request ({_PAPER}).",
)
@click.option(
    "--osl",
    type=click.IntRange(min=1),
    default=512,
    show_default=True,
    help="Output tokens per request.",
)
@click.option("--ttft", default="2s", show_default=True, help="Mean TTFT SLO, e.g. 2s, 500ms.")
@click.option("--tpot", default="20ms", show_default=True, help="Mean TPOT SLO, e.g. 20ms.")
@click.option("--tpm", help="Target tokens/minute, input + output, e.g. 5M, 500k. [default: 5M]")
@click.option("--total-tps", help="Target tokens/s, input + output, e.g. 83.3k.")
@click.option("--rps", help="Target requests/s, e.g. 12.5.")
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
) -> None:
    """How many prefill and decode instances meet the target and SLOs (arXiv 2603.04716)."""
    from pdplan import io, overrides, planner
    from pdplan.models.workload import SLO

    workload = _target(isl, osl, tpm, total_tps, rps, prefix_hit_rate)
    profile = io.load_profile(profile_path) if profile_path else io.default_profile()
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
            prefill_max_tps=_maybe(parse_tps, prefill_max_tps, "--prefill-max-tps"),
            overhead_s=_maybe(parse_duration_s, overhead, "--overhead", allow_zero=True),
            decode_points=_maybe(overrides.parse_decode_table, decode_table, "--decode-table"),
            prefill_gpus=prefill_gpus,
            decode_gpus=decode_gpus,
        )
        slo = SLO(ttft_s=parse_duration_s(ttft, "--ttft"), tpot_s=parse_duration_s(tpot, "--tpot"))
        plan = planner.size(profile, workload, slo)
    _emit(plan, profile.metadata, as_json)


def _maybe(parse: Callable[..., T], text: str | None, field: str, **kwargs: Any) -> T | None:
    """Parse an optional option: None stays None."""
    return None if text is None else parse(text, field, **kwargs)


def _emit(plan: Any, meta: Any, as_json: bool) -> None:
    for warning in plan.warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    if as_json:
        click.echo(json.dumps(plan.model_dump(mode="json"), indent=2))
        return
    from rich.console import Console

    from pdplan.report.tables import render_plan

    render_plan(plan, Console(), meta)


def _register() -> None:
    from pdplan.cli_profile import profile

    cli.add_command(profile)


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
    sys.exit(code if isinstance(code, int) else 0)
