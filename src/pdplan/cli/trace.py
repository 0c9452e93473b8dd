"""``pdplan trace`` (what a trace asks of a deployment) and ``pdplan size --trace`` (the
smallest allocation whose replay of it meets the SLOs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Unpack

import click

from pdplan.cli.option_types import TraceCmdOptions
from pdplan.cli.options import json_option, plot_option, seed_option

__all__ = ["trace_cmd"]


@click.command("trace")
@click.argument("path", type=click.Path())
@click.option("--time-scale", help="Replay X times faster (e.g. 4). [default: 1]")
@click.option("--trace-rps", help="Rescale to this mean rate instead, e.g. 20.")
@click.option("--rate-scale", help="ServeGen folder: every client's rate times X, e.g. 0.01.")
@seed_option
@click.option(
    "--trace-slice",
    help="Only the requests START:END seconds after the first one (the trace's own clock).",
)
@click.option(
    "--max-context", type=click.IntRange(min=2), help="Clip each request to this context."
)
@click.option(
    "--trace-osl", type=click.IntRange(min=1), help="Every request generates this many tokens."
)
@plot_option("the rate over time and the length histograms")
@json_option
def trace_cmd(
    path: str, plot_path: Path | None, as_json: bool, **kw: Unpack[TraceCmdOptions]
) -> None:
    """Summarise a request trace: rate over time, burstiness, lengths, prefix reuse."""
    from pdplan.cli.inputs import workload_from
    from pdplan.cli.option_types import trace_workload_options
    from pdplan.report.trace_tables import render_trace_summary
    from pdplan.traffic.summary import summarize_trace

    options = trace_workload_options(kw, path, None, summary_only=True)
    workload = workload_from(options, kw["seed"])
    trace, scale = workload.trace, workload.time_scale
    assert trace is not None and scale is not None
    summary = summarize_trace(trace, scale)
    if as_json:
        click.echo(json.dumps(summary.model_dump(mode="json"), indent=2, allow_nan=False))
    else:
        render_trace_summary(summary)
    if plot_path:
        from pdplan.report.plots import plot_trace

        click.echo(f"plot written to {plot_trace(trace, scale, plot_path)}", err=True)
