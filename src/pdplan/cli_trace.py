"""``pdplan trace`` (what a trace asks of a deployment) and ``pdplan size --trace`` (the
smallest allocation whose replay of it meets the SLOs)."""

from __future__ import annotations

import json
from typing import Any

import click

from pdplan.errors import ConfigError

__all__ = ["size_trace", "trace_cmd"]


@click.command("trace")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--time-scale", help="Replay X times faster (e.g. 4). [default: 1]")
@click.option("--trace-rps", help="Rescale to this mean rate instead, e.g. 20.")
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
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), help="PNG: rate and lengths.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def trace_cmd(path: str, plot_path: str | None, as_json: bool, **kw: Any) -> None:
    """Summarise a request trace: rate over time, burstiness, lengths, prefix reuse."""
    from pdplan.cli_common import workload_from
    from pdplan.report.trace_tables import render_trace_summary
    from pdplan.traffic import summarize_trace

    if plot_path:
        from pdplan.io import check_writable

        check_writable(plot_path, "--plot")
    workload = workload_from({**kw, "trace_path": path, "arrivals": None, "prefix_hit_rate": 0})
    trace, scale = workload.trace, workload.time_scale
    summary = summarize_trace(trace, scale)
    if as_json:
        click.echo(json.dumps(summary.model_dump(mode="json"), indent=2, allow_nan=False))
    else:
        render_trace_summary(summary)
    if plot_path:
        from pdplan.report.plots import plot_trace

        click.echo(f"plot written to {plot_trace(trace, scale, plot_path)}", err=True)


def size_trace(profile: Any, workload: Any, slo: Any, kw: dict[str, Any]) -> None:
    """``size --trace``: the analytic and the replay-checked answers."""
    from rich.console import Console

    from pdplan.trace_plan import plan_trace
    from pdplan.units import parse_duration_s

    if kw.get("verify"):
        raise ConfigError(
            "--verify and --trace: the trace plan is already checked by replaying the trace; "
            "--verify checks a mean-rate plan (without --trace)"
        )
    from pdplan.report.progress import working

    window = parse_duration_s(kw["slo_window"], "--slo-window") if kw["slo_window"] else None
    if kw.get("confidence") is not None:
        from pdplan.uncertainty import bounded_profile, has_intervals

        if not has_intervals(profile):
            raise ConfigError(
                "--confidence: the profile records no measurement intervals (profile it with "
                "pdplan to get them)"
            )
        profile = bounded_profile(profile, "pessimistic", kw["confidence"])
        click.secho(
            f"note: planned and replayed on the pessimistic end of the profile's "
            f"{kw['confidence']:.0%} intervals (--confidence)",
            err=True,
        )
    with working("planning for the trace") as status:
        plan = plan_trace(
            profile,
            workload,
            slo,
            model=kw["model"],
            prefill_routing=kw["routing"],
            decode_routing=kw["decode_routing"],
            slo_window_s=window,
            on_probe=lambda what: status.update(f"planning for the trace: {what}"),
        )
    for warning in plan.warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    if kw.get("export_engine"):
        from pdplan.export import Deployment, export_warnings, launch_script

        for warning in export_warnings(kw["export_engine"], profile.metadata):
            click.secho(f"warning: {warning}", fg="yellow", err=True)
        deployment = Deployment.of_trace_plan(plan)
        engine, served = kw["export_engine"], kw["served_model"]
        click.echo(launch_script(deployment, engine, served, profile.metadata), nl=False)
        return
    if kw["as_json"]:
        out = plan.model_dump(mode="json")
        out["replay"] = out["allocation"]
        click.echo(json.dumps(out, indent=2, allow_nan=False))
        return
    from pdplan.report.trace_tables import render_trace_plan

    render_trace_plan(plan, Console(), profile.metadata)
