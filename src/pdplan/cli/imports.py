"""``pdplan import`` (other tools' benchmark results -> profile parts) and ``pdplan compare``
(measured steps beside pdplan's predictions)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Unpack

import click

from pdplan.cli.inputs import load_profile_option, slo_from
from pdplan.cli.option_types import CompareOptions, ImportOptions
from pdplan.cli.options import json_option, options, plan_model_option, plot_option, slo_options
from pdplan.errors import ConfigError

if TYPE_CHECKING:
    from pdplan.measured.runs import BenchRun

__all__ = ["compare_cmd", "import_cmd"]

_TOOL_NAMES = {
    "vllm-bench": "vllm bench serve",
    "sglang-bench": "SGLang bench_serving",
    "guidellm": "guidellm",
    "aiperf": "aiperf",
    "inference-perf": "inference-perf",
    "pdplan": "pdplan loadtest",
}


def _runs(paths: tuple[str, ...]) -> list[BenchRun]:
    from pdplan.io import load_bench_runs

    if not paths:
        raise ConfigError("give at least one benchmark result file")
    return [run for path in paths for run in load_bench_runs(path)]


@click.command("import")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("pdplan-import"),
    show_default=True,
    help="Directory for the parts and, once prefill and decode are both there, profile.yaml "
    "(parts already in it, from pdplan profile or an earlier import, are kept unless replaced).",
)
@click.option(
    "--prefill-gpus",
    type=click.IntRange(min=1),
    default=1,
    help="GPUs of the benchmarked instance, as the prefill side's GPUs per instance (default: "
    "the count --hardware opens with, e.g. 8xH100; else 1).",
)
@click.option(
    "--decode-gpus",
    type=click.IntRange(min=1),
    default=1,
    help="GPUs of the benchmarked instance, as the decode side's GPUs per instance (default: "
    "the count --hardware opens with; else 1).",
)
@click.option(
    "--hardware",
    help="Hardware of one instance, e.g. 8xH100 (for the metadata; its count is the GPUs per "
    "instance unless --prefill-gpus/--decode-gpus say otherwise).",
)
@click.option("--engine", help="Engine measured, e.g. vllm (for the metadata).")
@json_option
def import_cmd(
    files: tuple[str, ...], out: Path, as_json: bool, **kw: Unpack[ImportOptions]
) -> None:
    """Turn other tools' benchmark results into pdplan profile parts (and a profile)."""
    from pdplan.bench import profiler
    from pdplan.bench.records import write_part
    from pdplan.cli.inputs import gpus_per_instance
    from pdplan.io import check_out_dir
    from pdplan.measured.to_profile import parts_from_runs
    from pdplan.schema.parts import PartMeta

    gpus = gpus_per_instance(kw)
    runs = _runs(files)
    check_out_dir(out, "--out")
    tools = sorted({_TOOL_NAMES[r.tool] for r in runs})
    models = sorted({r.model for r in runs if r.model})
    meta = PartMeta(model=models[0] if len(models) == 1 else None)
    imported = parts_from_runs(runs, meta)
    written = []
    for name, part in (("prefill", imported.prefill), ("decode", imported.decode)):
        if part is not None:
            written.append(str(write_part(out, name, part)))
    source = f"pdplan import of {', '.join(tools)} results: {', '.join(files)}"
    profile = profiler.write_profile(
        out,
        prefill_gpus=gpus[0],
        decode_gpus=gpus[1],
        hardware=kw["hardware"],
        engine=kw["engine"],
        source=source,
    )
    if as_json:
        result = {
            "runs": [r.model_dump(mode="json") for r in runs],
            "used": imported.used,
            "notes": imported.notes,
            "missing": imported.missing if profile is None else [],
            "parts": written,
            "profile": None if profile is None else str(profile[0]),
        }
        click.echo(json.dumps(result, indent=2, allow_nan=False))
        return
    from rich.console import Console

    from pdplan.report.measured_tables import runs_table

    console = Console()
    console.print(runs_table(runs))
    for line in imported.used:
        console.print(f"[green]used[/] {line}")
    for line in imported.notes:
        console.print(f"[yellow]note[/] {line}")
    if profile is None:
        for line in imported.missing:
            console.print(f"[red]missing[/] {line}")
        console.print(
            f"parts written to {out}/parts; profile.yaml needs both prefill and decode (import "
            "more runs, or measure the missing part with pdplan profile --out "
            f"{out})"
        )
    else:
        console.print(f"profile written to [bold]{profile[0]}[/]")


@click.command("compare")
@click.option(
    "--profile",
    "profile_path",
    type=click.Path(dir_okay=False),
    required=True,
    help="The profile whose predictions the measurements are set beside.",
)
@click.option(
    "--measured",
    "measured",
    multiple=True,
    type=click.Path(dir_okay=False),
    required=True,
    help="A measured result file (pdplan loadtest --json or any format pdplan import reads); "
    "repeat for more.",
)
@click.option(
    "--prefill",
    "prefill_n",
    type=click.IntRange(min=1, max=1000),
    default=1,
    show_default=True,
    help="Prefill instances of the measured deployment.",
)
@click.option(
    "--decode",
    "decode_n",
    type=click.IntRange(min=1, max=1000),
    default=1,
    show_default=True,
    help="Decode instances of the measured deployment.",
)
@plan_model_option("Planning model whose assumptions the prediction uses.")
@options(slo_options)
@click.option(
    "--requests",
    type=click.IntRange(min=1000, max=1_000_000),
    default=10_000,
    show_default=True,
    help="Simulated requests per step.",
)
@plot_option("the measured steps beside the predictions")
@json_option
def compare_cmd(as_json: bool, plot_path: Path | None, **kw: Unpack[CompareOptions]) -> None:
    """Measured steps beside pdplan's predicted TTFT/TPOT and verdict, with the errors."""
    from pdplan.measured.compare import compare_runs

    profile = load_profile_option(kw["profile_path"])
    slo = slo_from(kw)
    runs = _runs(kw["measured"])
    from rich.console import Console

    from pdplan.report.progress import RichReporter

    with RichReporter(Console(stderr=True)) as reporter:
        result = compare_runs(
            profile,
            runs,
            slo,
            kw["prefill_n"],
            kw["decode_n"],
            model=kw["model"],
            requests=kw["requests"],
            on_group=reporter.note,
        )
    if as_json:
        click.echo(json.dumps(result.model_dump(mode="json"), indent=2, allow_nan=False))
    else:
        from pdplan.report.measured_tables import render_comparison

        render_comparison(result, Console())
    if plot_path:
        from pdplan.report.plots import plot_comparison

        click.echo(f"plot written to {plot_comparison(result, plot_path)}", err=True)
