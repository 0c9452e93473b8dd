"""``pdplan profile aggregated``: one ordinary (not disaggregated) engine's step-time model and
rate sweep, added to the profile in ``--out`` (or written as a part until prefill and decode
are measured there too)."""

from __future__ import annotations

from pathlib import Path
from typing import Unpack

import click

from pdplan.cli.inputs import check_url, number_list
from pdplan.cli.option_types import ProfileAggregatedOptions
from pdplan.cli.options import client_options, options, prompt_mode_option, seed_option
from pdplan.units import parse_duration_s

__all__ = ["aggregated_cmd"]

#: The largest step budget or sequence cap a profile records (vLLM's are thousands).
MAX_BUDGET = 10_000_000


@click.command("aggregated")
@click.option("--url", required=True, help="Base URL of one aggregated engine instance.")
@click.option("--isl", "isl", type=click.IntRange(1, MAX_BUDGET), required=True,
              help="The workload's input length, tokens.")  # fmt: skip
@click.option("--osl", "osl", type=click.IntRange(1, MAX_BUDGET), required=True,
              help="The workload's output length, tokens.")  # fmt: skip
@click.option(
    "--max-batched-tokens",
    type=click.IntRange(1, MAX_BUDGET),
    required=True,
    help="The engine's step budget, as it was started (vLLM --max-num-batched-tokens).",
)
@click.option(
    "--max-seqs",
    type=click.IntRange(1, MAX_BUDGET),
    required=True,
    help="The engine's cap on running requests (vLLM --max-num-seqs).",
)
@click.option("--gpus", type=click.IntRange(1, 100_000), default=1, show_default=True,
              help="GPUs per instance.")  # fmt: skip
@click.option("--batch", "batch_text", default="1,2,4,8,16", show_default=True,
              help="Decode batches of the decodes-alone sweeps.")  # fmt: skip
@click.option(
    "--loads",
    default="0.3,0.6,0.8",
    show_default=True,
    help="Rate sweep at these shares of the fitted model's stable rate; none: skip.",
)
@click.option("--sweep-requests", type=click.IntRange(10, 1_000_000), default=200,
              show_default=True, help="Requests per point of the rate sweep.")  # fmt: skip
@click.option("--min-duration", default="5s", show_default=True,
              help="Per decode batch, at least.")  # fmt: skip
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("pdplan-profile"),
    show_default=True,
    help="Output directory (with prefill and decode parts there, profile.yaml gets the section).",
)
@click.option("--served-model", "model", help="Served model id (default: the first listed).")
@prompt_mode_option()
@seed_option
@options(client_options)
def aggregated_cmd(url: str, **kw: Unpack[ProfileAggregatedOptions]) -> None:
    """Step-time model (prompts alone, decodes alone) and TTFT/TPOT against rate."""
    from rich.console import Console

    from pdplan.bench import profiler
    from pdplan.bench.aggregated import AggregatedSettings
    from pdplan.cli.profile import _client, _run
    from pdplan.report.mode_tables import aggregated_part_table

    check_url(url, "--url")
    loads: tuple[float, ...] = ()
    if kw["loads"].strip().lower() != "none":
        loads = number_list(kw["loads"], "--loads", float, lambda v: 0 < v < 1, "shares in (0, 1)")
    batches = number_list(kw["batch_text"], "--batch", int, lambda v: 1 <= v <= 4096,
                          "integers in 1..4096")  # fmt: skip
    settings = AggregatedSettings(
        isl_tokens=kw["isl"],
        osl_tokens=kw["osl"],
        max_batched_tokens=kw["max_batched_tokens"],
        max_seqs=kw["max_seqs"],
        gpus_per_instance=kw["gpus"],
        batches=batches,
        loads=loads,
        sweep_requests=kw["sweep_requests"],
        min_duration_s=parse_duration_s(kw["min_duration"], "--min-duration", allow_zero=True),
        seed=kw["seed"],
    )
    client = _client(kw)
    part = _run(lambda r: profiler.run_aggregated(url, kw["out"], settings, reporter=r, **client))
    from pdplan.plan.sweep_gaps import sweep_gaps, sweep_warning

    console = Console()
    gaps = sweep_gaps(part.aggregated)
    console.print(aggregated_part_table(part, gaps))
    warning = sweep_warning(gaps)
    if warning:
        console.print(f"[yellow]Warning: {warning} (README: Aggregated or disaggregated?)[/]")
    path = kw["out"] / "profile.yaml"
    if path.exists():  # a profile measured there before: add the section, keep the rest
        from pdplan.io import load_profile, save_profile

        save_profile(load_profile(path).model_copy(update={"aggregated": part.aggregated}), path)
        console.print(f"profile written to [bold]{path}[/] with its aggregated section")
        return
    written = profiler.write_profile(kw["out"])
    if written is None:
        console.print(
            f"part written to {kw['out']}/parts/aggregated.json; profile.yaml is written once "
            "prefill and decode are measured in the same --out (pdplan profile all)"
        )
    else:
        console.print(f"profile written to [bold]{written[0]}[/] with its aggregated section")
