"""``pdplan size``: how many prefill and decode instances, for a mean rate or for a trace."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Unpack

import click

from pdplan.cli.inputs import load_profile_option, maybe, slo_from, workload_from
from pdplan.cli.mix import mix_options, size_mix, wants_mix
from pdplan.cli.option_types import EXPORT_TARGETS, MODES, SizeOptions
from pdplan.cli.options import (
    given,
    json_option,
    options,
    plan_model_option,
    planned_routing_options,
    slo_options,
    workload_options,
)
from pdplan.errors import ConfigError
from pdplan.units import parse_duration_s, parse_tps

if TYPE_CHECKING:
    from pdplan.export import Deployment
    from pdplan.plan.verify import VerifyRow
    from pdplan.schema.plan import Plan
    from pdplan.schema.profile import Profile, ProfileMetadata
    from pdplan.schema.workload import SLO, Workload

__all__ = ["size", "size_trace"]

#: The shortest SLO window: a statistic over fewer seconds holds too few requests.
MIN_SLO_WINDOW_S = 10.0
#: Requests per simulation when --mode compare checks the aggregated count.
SIMULATED_REQUESTS = 4_000


@click.command()
@options(workload_options)
@options(slo_options)
@click.option("--prefill-max-tps", help="What-if: TPmax of one prefill instance, tok/s.")
@click.option("--overhead", help="What-if: fixed TTFT overhead (transfer, KV move), e.g. 100ms.")
@click.option("--decode-table", help="What-if: decode batch:TPOT-ms pairs, e.g. 10:12.8,20:16.4.")
@click.option("--prefill-tps", help="Theory only: SLO-limited prefill tok/s per instance.")
@click.option("--decode-tps", help="Theory only: SLO-limited decode tok/s per instance.")
@click.option("--prefill-gpus", type=click.IntRange(min=1), help="GPUs per prefill instance.")
@click.option("--decode-gpus", type=click.IntRange(min=1), help="GPUs per decode instance.")
@json_option
@plan_model_option(
    "auto: queueing with the engine's service variability fitted from the profile's Poisson "
    "sweep (exponential service without a usable one, as the paper); queueing: M/G/1 (M/D/1 "
    "for fixed ISL), bursts, pooling, percentiles, batch fluctuation; paper: M/M/1 + the "
    "paper's decode rule, on the mean rate."
)
@options(planned_routing_options)
@click.option(
    "--slo-window",
    help="With --trace: the SLO statistic must hold in every window of this length (e.g. "
    "5m; at least 10s), not only over the whole replay.",
)
@click.option(
    "--export",
    "export_engine",
    type=click.Choice(EXPORT_TARGETS),
    help="Print launch commands for the planned allocation instead of the tables (vllm, "
    "sglang: a bash script; llm-d: Helm values for the llm-d-modelservice chart; dynamo: a "
    "DynamoGraphDeployment with the profile's engine as its backend).",
)
@click.option(
    "--served-model", default="MODEL", show_default=True, help="Model name or path for --export."
)
@click.option(
    "--confidence",
    type=float,
    help="Plan on the pessimistic end of the profile's measurement intervals at this "
    "confidence, 0.5 to 0.999, e.g. 0.9 (profiles measured by pdplan record 90% intervals).",
)
@click.option(
    "--mode",
    type=click.Choice(MODES),
    default="disaggregated",
    show_default=True,
    help="disaggregated: prefill and decode instances; aggregated: ordinary engines that do "
    "both (the profile's aggregated section); compare: the smallest of each, the verdict and "
    "its sensitivity.",
)
@click.option(
    "--verify",
    is_flag=True,
    help="Simulate the plan and its neighbours; report planned vs simulated capacity.",
)
@options(mix_options)
def size(**kw: Unpack[SizeOptions]) -> None:
    """How many prefill and decode instances meet the target and SLOs (arXiv 2603.04716)."""
    from pdplan.engine import overrides
    from pdplan.plan import rate as planner

    if wants_mix(kw):  # before reading the other inputs: conflicting options come first
        size_mix(kw, workload_from(kw))
        return
    workload = workload_from(kw)
    profile = load_profile_option(kw["profile_path"])
    _refuse_mixed(kw)
    if kw["mode"] != "disaggregated":
        size_modes(profile, workload, slo_from(kw), kw)
        return
    if kw["export_engine"]:
        from pdplan.export.deployment import check_model_name

        check_model_name(kw["served_model"])
    if kw["trace_path"] and workload.replays_trace:
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
        _export(plan, kw, profile.metadata)
        return
    rows = None
    if kw["verify"]:
        from pdplan.parallel import process_map
        from pdplan.plan.verify import verify_plan
        from pdplan.report.progress import working

        with working("simulating the plan and its neighbours (5 seeds each)"):
            rows = verify_plan(profile, plan, map_fn=process_map())
    _emit(plan, profile.metadata, kw["as_json"], rows)


def _export(
    plan: Plan | Deployment, kw: SizeOptions, metadata: ProfileMetadata, slo: SLO | None = None
) -> None:
    """The launch script (vllm, sglang), the llm-d Helm values or the Dynamo resource for a
    plan or deployment."""
    from pdplan.export import export_warnings, launch_script

    target = kw["export_engine"]
    assert target is not None
    if target == "dynamo":
        from pdplan.export.dynamo import backend_of, render_dynamo_graph

        backend, notes = backend_of(metadata)
        for warning in notes:
            click.secho(f"warning: {warning}", fg="yellow", err=True)
        text = render_dynamo_graph(plan, kw["served_model"], backend, notes, slo)
        click.echo(text, nl=False)
        return
    warnings = export_warnings("vllm" if target == "llm-d" else target, metadata)
    for warning in warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    if target == "llm-d":
        from pdplan.export.llmd import render_llmd_values

        click.echo(render_llmd_values(plan, kw["served_model"], warnings), nl=False)
        return
    click.echo(launch_script(plan, target, kw["served_model"], metadata), nl=False)


def size_modes(profile: Profile, workload: Workload, slo: SLO, kw: SizeOptions) -> None:
    """``size --mode aggregated|compare``: aggregated serving, alone or against disaggregated."""
    if kw["mode"] == "aggregated" and kw.get("trace_path"):
        raise ConfigError(
            "--mode aggregated and --trace: plan a trace with --mode compare (both ways replay it)"
        )
    for name, option in (
        ("export_engine", "--export"),
        ("verify", "--verify"),
        ("confidence", "--confidence"),
        ("prefill_tps", "--prefill-tps"),
        ("decode_tps", "--decode-tps"),
        ("slo_window", "--slo-window"),
    ):
        if kw.get(name):
            raise ConfigError(
                f"--mode {kw['mode']} and {option}: not supported together (plan the "
                "disaggregated deployment with --mode disaggregated for that)"
            )
    from rich.console import Console

    from pdplan.plan.modes import compare_modes
    from pdplan.report.mode_tables import render_aggregated, render_modes

    if profile.aggregated is None:
        raise ConfigError(
            f"--mode {kw['mode']}: the profile has no aggregated section (measure one ordinary "
            "engine with pdplan profile aggregated)"
        )
    if kw["mode"] == "aggregated":
        from pdplan.capacity.aggregated import plan_aggregated

        plan = plan_aggregated(profile.aggregated, workload, slo)
        if kw["as_json"]:
            out = {"workload": workload.model_dump(mode="json"), "slo": slo.model_dump(),
                   "aggregated": plan.model_dump(mode="json")}  # fmt: skip
            click.echo(json.dumps(out, indent=2, allow_nan=False))
            return
        render_aggregated(plan, workload, slo, profile, Console())
        return
    from pdplan.report.progress import working

    with working("planning both ways, simulating the aggregated count, moving each input"):
        result = compare_modes(
            profile,
            workload,
            slo,
            model=kw["model"],
            prefill_routing=kw["routing"],
            decode_routing=kw["decode_routing"],
            simulate_requests=SIMULATED_REQUESTS,
        )
    if kw["as_json"]:
        both: dict[str, object] = result.model_dump(mode="json")
        both["sensitive_to"] = result.sensitive_to
        both["sweep_warning"] = result.sweep_warning
        click.echo(json.dumps(both, indent=2, allow_nan=False))
        return
    render_modes(result, workload, slo, profile, Console())


def _refuse_mixed(kw: SizeOptions) -> None:
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


def _emit(
    plan: Plan, meta: ProfileMetadata, as_json: bool, verified: list[VerifyRow] | None
) -> None:
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
    if verified is not None and plan.slo is not None:
        from pdplan.report.sim_tables import render_verify

        render_verify(verified, console, plan.slo)


def size_trace(profile: Profile, workload: Workload, slo: SLO, kw: SizeOptions) -> None:
    """``size --trace``: the analytic and the replay-checked answers."""
    from rich.console import Console

    from pdplan.plan.trace import plan_trace
    from pdplan.units import parse_duration_s

    if kw.get("verify"):
        raise ConfigError(
            "--verify and --trace: the trace plan is already checked by replaying the trace; "
            "--verify checks a mean-rate plan (without --trace)"
        )
    from pdplan.report.progress import working

    window = None
    if kw["slo_window"]:
        window = parse_duration_s(kw["slo_window"], "--slo-window")
        if window < MIN_SLO_WINDOW_S:
            raise ConfigError(
                f"--slo-window: {kw['slo_window']!r} is shorter than {MIN_SLO_WINDOW_S:g} s; a "
                "statistic over a shorter window holds too few requests to judge (and the "
                "replay's work grows with the number of windows)"
            )
    confidence = kw["confidence"]
    if confidence is not None:
        from pdplan.engine.uncertainty import bounded_profile, check_confidence
        from pdplan.report.format import fmt_share

        check_confidence(profile, confidence)
        profile = bounded_profile(profile, "pessimistic", confidence)
        click.secho(
            f"note: planned and replayed on the pessimistic end of the profile's "
            f"{fmt_share(confidence)} intervals (--confidence)",
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
        from pdplan.export import Deployment

        _export(Deployment.of_trace_plan(plan), kw, profile.metadata, plan.slo)
        return
    if kw["as_json"]:
        out = plan.model_dump(mode="json")
        out["replay"] = out["allocation"]
        click.echo(json.dumps(out, indent=2, allow_nan=False))
        return
    from pdplan.report.trace_tables import render_trace_plan

    render_trace_plan(plan, Console(), profile.metadata)
