"""Terminal tables for ``pdplan schedule``: the schedule, and what each way of scaling
delivers on the same replay."""

from __future__ import annotations

from rich.console import Console

from pdplan.plan.autoscale import PolicyRow, row_of
from pdplan.plan.schedule import SchedulePlan
from pdplan.report.format import fmt_duration, new_table
from pdplan.schema.workload import SLO
from pdplan.sim.elastic_replay import ElasticReplay
from pdplan.units import fmt_clock

__all__ = ["render_schedule", "render_schedule_replay"]


def _stat(value: float | None) -> str:
    return "-" if value is None else fmt_duration(value)


def _span(seconds: float) -> str:
    """A window or a step: ``"10 min"``, ``"1 h"``, ``"90 s"``."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


def _gpu_hours(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def _setting(row: PolicyRow) -> str:
    if row.knob is None or row.value is None:
        return "-"
    return f"x{row.value:g}" if row.knob == "headroom" else f"{row.value:.0%}"


def render_schedule(plan: SchedulePlan, console: Console, price: float | None = None) -> None:
    """The schedule's steps, then the policies table and the saving."""
    slo, r = plan.slo, plan.replay
    result = r.result
    console.print(
        f"[bold]{result.requests_measured:,} requests[/] over {_span(r.windows[-1].end_s)}"
        f"; SLOs {slo.ttft_stat} TTFT <= {fmt_duration(slo.ttft_s)} and {slo.tpot_stat} TPOT "
        f"<= {fmt_duration(slo.tpot_s)} in every {_span(plan.slo_window_s)} window; "
        f"steps of {_span(plan.step_s)}; scale-up delay {_span(plan.scale_up_delay_s)}"
    )
    steps = new_table(
        "Schedule: the counts serving from each time on",
        "from",
        "prefill",
        "decode",
        "req/s",
        "prefill: why<",
        "decode: why<",
        caption="why not one fewer: the window that misses with one fewer and its "
        f"{slo.ttft_stat} TTFT / {slo.tpot_stat} TPOT there ((whole): found on the whole "
        "replay), or "
        "work W: the step's work keeps W instances busy. A scale-up starts "
        f"{_span(plan.scale_up_delay_s)} before its step.",
    )
    rows = plan.steps
    for k, step in enumerate(plan.schedule.steps):
        end = plan.schedule.steps[k + 1].start_s if k + 1 < len(plan.schedule.steps) else None
        part = [s for s in rows if s.start_s >= step.start_s and (end is None or s.start_s < end)]
        requests = sum(s.requests for s in part)
        span = sum(s.end_s - s.start_s for s in part) or plan.step_s
        steps.add_row(
            fmt_clock(step.start_s),
            str(step.prefill_instances),
            str(step.decode_instances),
            f"{requests / span:.3g}",
            next((s.prefill_decided_by for s in part if s.prefill_decided_by), "minimum"),
            next((s.decode_decided_by for s in part if s.decode_decided_by), "minimum"),
        )
    console.print(steps)
    cost = price is not None
    table = new_table(
        "On the same replay",
        "policy<",
        "setting",
        "windows\nmet",
        "worst\nwindow",
        f"{slo.ttft_stat}\nTTFT",
        f"{slo.tpot_stat}\nTPOT",
        "GPU-h",
        *(["cost"] if cost else []),
        "scaling\nevents",
    )
    for row in plan.policies:
        table.add_row(
            row.policy,
            _setting(row),
            f"{row.windows_met}/{row.windows}" + ("" if row.meets else " [red]x[/]"),
            "-" if row.worst_window_start_s is None else fmt_clock(row.worst_window_start_s),
            _stat(row.worst_ttft_s),
            _stat(row.worst_tpot_s),
            _gpu_hours(row.gpu_hours),
            *([f"${row.gpu_hours * price:,.0f}"] if price is not None else []),
            str(row.scaling_events),
        )
    table.caption = (
        "setting: the cheapest that meets every window (x: even the safest tried misses): "
        "the throughput policy's headroom on its predicted load, the HPA's target load per "
        "instance; worst window: the furthest over (or closest to) an objective"
    )
    console.print(table)
    static = plan.policies[0]
    console.print(
        f"The schedule uses [bold]{_gpu_hours(r.gpu_hours)} GPU-hours[/], "
        f"{plan.saving:.0%} fewer than the static {plan.static_allocation} that meets every "
        f"window ({_gpu_hours(static.gpu_hours)}); every window meets on replay "
        f"({plan.repairs} repair round(s) after sizing each step)."
    )


def render_schedule_replay(replay: ElasticReplay, slo: SLO, console: Console | None = None) -> None:
    """``simulate --schedule``: the whole replay's verdict, then the windows that missed."""
    console = console or Console()
    row = row_of("schedule", replay, slo)
    console.print(
        f"[bold]{replay.result.requests_measured:,} requests[/]; {row.windows_met}/{row.windows} "
        f"windows of {_span(replay.window_s)} meet {slo.ttft_stat} TTFT <= "
        f"{fmt_duration(slo.ttft_s)} and {slo.tpot_stat} TPOT <= {fmt_duration(slo.tpot_s)}; "
        f"{replay.gpu_hours:,.1f} GPU-hours ({replay.prefill_gpu_hours:,.1f} prefill, "
        f"{replay.decode_gpu_hours:,.1f} decode); {replay.scaling_events} scaling events"
    )
    missed = replay.failed_windows
    if not missed:
        return
    table = new_table(
        f"Windows that miss ({len(missed)}; the first 20)",
        "from",
        "requests",
        f"{slo.ttft_stat}\nTTFT",
        f"{slo.tpot_stat}\nTPOT",
        "prefill\npaid",
        "decode\npaid",
    )
    for w in missed[:20]:
        table.add_row(
            fmt_clock(w.start_s),
            f"{w.requests:,}",
            _stat(w.ttft_s) + ("" if w.ttft_met else " [red]x[/]"),
            _stat(w.tpot_s) + ("" if w.tpot_met else " [red]x[/]"),
            f"{w.prefill_instances:.2f}",
            f"{w.decode_instances:.2f}",
        )
    console.print(table)
