"""Plots (matplotlib, the optional ``plot`` extra): the paper's Figures 1 and 2 from a profile.

The only module that imports matplotlib; it is imported lazily and reports a clear error
when the extra is missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pdplan.capacity.prefill import mean_ttft_curves
from pdplan.errors import ConfigError
from pdplan.schema.profile import Profile
from pdplan.units import ms_to_s, s_to_ms, tps_to_tpm

if TYPE_CHECKING:
    from pdplan.measured.compare import Comparison
    from pdplan.plan.verify import Prediction
    from pdplan.schema.parts import LoadtestStep
    from pdplan.schema.workload import SLO

__all__ = ["plot_capacity_sweep", "plot_comparison", "plot_loadtest", "plot_profile", "plot_trace"]


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ConfigError("plots need matplotlib: pip install 'pdplan[plot]'") from None
    return plt


def plot_profile(profile: Profile, path: str | Path) -> Path:
    """One figure of a profile: TTFT against arrival rate, measured beside M/M/1 and M/D/1
    (the paper's Figure 1; when the profile has a Poisson sweep), and TPOT and output tok/s
    against the decode batch (Figure 2)."""
    plt = _pyplot()
    sweep = bool(profile.prefill.ttft_vs_rate)
    fig, axes = plt.subplots(1, 2 if sweep else 1, figsize=(13 if sweep else 7, 4.5))
    if sweep:
        _draw_prefill_ttft(axes[0], profile)
    _draw_decode(axes[1] if sweep else axes, profile)
    return _save(fig, path, dpi=120)


def _draw_prefill_ttft(ax: Any, profile: Profile) -> None:
    """TTFT against arrival rate per ISL: predictions are
    :func:`pdplan.capacity.prefill.mean_ttft_curves`, measured points the sweep's mean and p90."""
    sweep = profile.prefill.ttft_vs_rate
    for color, point in zip(
        ("C0", "C1", "C2", "C3", "C4"), profile.prefill.max_throughput, strict=False
    ):
        rows = [s for s in sweep if s.isl_tokens == point.isl_tokens]
        if not rows:
            continue
        rates, curves = mean_ttft_curves(profile.prefill, point.isl_tokens)
        for (name, ttft_s), ls in zip(curves.items(), ("--", ":"), strict=True):
            ax.plot(
                rates,
                [s_to_ms(t) for t in ttft_s],
                color=color,
                ls=ls,
                label=f"ISL {point.isl_tokens}: {name} mean",
            )
        ax.plot(
            [s.rate_rps for s in rows],
            [s_to_ms(s.ttft_mean_s) for s in rows],
            "o-",
            color=color,
            label=f"ISL {point.isl_tokens}: measured mean",
        )
        ax.plot(
            [s.rate_rps for s in rows],
            [s_to_ms(s.ttft_p90_s) for s in rows],
            "^",
            color=color,
            alpha=0.6,
            label=f"ISL {point.isl_tokens}: measured p90",
        )
        ax.axvline(rates[-1] / 0.95, color=color, lw=0.5)  # the saturated rate
    ax.set_xlabel("arrival rate (requests/s)")
    ax.set_ylabel("TTFT (ms)")
    ax.set_ylim(bottom=0)
    ax.set_title(f"TTFT vs rate: {profile.metadata.model or 'engine'} (vertical: mu = TPmax/ISL)")
    ax.legend(fontsize=7)


def _draw_decode(ax: Any, profile: Profile) -> None:
    """TPOT and output tokens/s against decode batch size, per curve."""
    ax2 = ax.twinx()
    for color, curve in zip(("C0", "C1", "C2", "C3"), profile.decode.curves, strict=False):
        shape = f"ISL {curve.isl_tokens}/OSL {curve.osl_tokens}"
        batches = [p.batch for p in curve.points]
        ax.plot(
            batches,
            [p.tpot_ms for p in curve.points],
            "o-",
            color=color,
            label=f"{shape}: TPOT mean",
        )
        p90 = [p.tpot_p90_ms for p in curve.points]
        if all(v is not None for v in p90):
            ax.plot(batches, p90, "^:", color=color, alpha=0.6, label=f"{shape}: TPOT p90")
        ax2.plot(
            batches,
            [p.batch / ms_to_s(p.tpot_ms) for p in curve.points],
            "s--",
            color=color,
            alpha=0.5,
            label=f"{shape}: batch / TPOT",
        )
        measured = [p.output_tps for p in curve.points]
        if all(v is not None for v in measured):
            ax2.plot(
                batches,
                measured,
                "s-",
                color=color,
                alpha=0.8,
                label=f"{shape}: measured output tok/s",
            )
    ax.set_xlabel("decode batch size (concurrent requests)")
    ax.set_ylabel("TPOT (ms)")
    ax2.set_ylabel("decode throughput (output tok/s)")
    ax.set_ylim(bottom=0)
    ax2.set_ylim(bottom=0)
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], fontsize=7, loc="upper left")
    ax.set_title(f"Decode: {profile.metadata.model or 'engine'}")


def _nan(value: float | None) -> float:
    """A gap in a plotted line where there is no value."""
    return float("nan") if value is None else value


def _ms(value_s: float | None) -> float:
    return float("nan") if value_s is None else s_to_ms(value_s)


def plot_capacity_sweep(rows: list[Any], slo: Any, path: str | Path) -> Path:
    """Mean TTFT and TPOT against total throughput per allocation (the paper's Figure 3)."""
    plt = _pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name in dict.fromkeys(r.allocation for r in rows):
        mine = [r for r in rows if r.allocation == name]
        x = [tps_to_tpm(r.offered_total_tps) / 1e6 for r in mine]
        ax1.plot(x, [_nan(r.ttft_mean_s) for r in mine], "o-", label=name)
        ax2.plot(x, [_ms(r.tpot_mean_s) for r in mine], "o-", label=name)
    ax1.axhline(slo.ttft_s, color="k", ls="--", lw=0.8, label="TTFT SLO")
    ax2.axhline(s_to_ms(slo.tpot_s), color="k", ls="--", lw=0.8, label="TPOT SLO")
    ax1.set_ylim(0, slo.ttft_s * 2.5)
    ax2.set_ylim(0, s_to_ms(slo.tpot_s) * 2)
    for ax, label in ((ax1, "mean TTFT (s)"), (ax2, "mean TPOT (ms)")):
        ax.set_xlabel("offered total throughput (M tokens/min)")
        ax.set_ylabel(label)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle("Simulated TTFT and TPOT against load")
    return _save(fig, path, dpi=120)


def plot_loadtest(
    steps: list[LoadtestStep], predictions: Prediction | None, slo: SLO, path: str | Path
) -> Path:
    """Measured TTFT/TPOT against achieved throughput, beside the simulator and the planner."""
    plt = _pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    stat = slo.ttft_stat
    x = [tps_to_tpm(s.achieved_total_tps) / 1e6 for s in steps]
    ax1.plot(
        x,
        [_nan(None if s.ttft_s is None else s.ttft_s.stat(stat)) for s in steps],
        "o-",
        label=f"measured {stat}",
    )
    ax2.plot(
        x,
        [_ms(None if s.tpot_s is None else s.tpot_s.stat(slo.tpot_stat)) for s in steps],
        "o-",
        label=f"measured {slo.tpot_stat}",
    )
    if predictions:
        sim = predictions.simulated_sweep
        sx = [tps_to_tpm(p.offered_total_tps) / 1e6 for p in sim]
        ax1.plot(sx, [_nan(p.ttft_mean_s) for p in sim], "s--", label="simulator mean")
        ax2.plot(sx, [_ms(p.tpot_mean_s) for p in sim], "s--", label="simulator mean")
        for ax in (ax1, ax2):
            ax.axvline(
                tps_to_tpm(predictions.planned_max_total_tps) / 1e6,
                color="C2",
                ls=":",
                label="planner capacity",
            )
            ax.axvline(
                tps_to_tpm(predictions.simulated_max_total_tps) / 1e6,
                color="C1",
                ls=":",
                label="simulator capacity",
            )
    ax1.axhline(slo.ttft_s, color="k", ls="--", lw=0.8, label="TTFT SLO")
    ax2.axhline(s_to_ms(slo.tpot_s), color="k", ls="--", lw=0.8, label="TPOT SLO")
    for ax, label in ((ax1, "TTFT (s)"), (ax2, "TPOT (ms)")):
        ax.set_xlabel("total throughput (M tokens/min)")
        ax.set_ylabel(label)
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.suptitle("Load test: measured against predicted")
    return _save(fig, path, dpi=120)


def plot_trace(trace: Any, time_scale: float, path: str | Path) -> Path:
    """The request rate over time (10 s and 1 min windows) and the ISL/OSL histograms."""
    from pdplan.traffic.summary import window_counts

    plt = _pyplot()
    fig = plt.figure(figsize=(11, 6.5))
    top = fig.add_subplot(2, 1, 1)
    times = trace.replay_times_s(time_scale)
    for width, style, label in ((10.0, "-", "10 s windows"), (60.0, "o-", "1 min windows")):
        counts = window_counts(times, width)
        if counts:
            top.plot(
                [(k + 0.5) * width for k in range(len(counts))],
                [c / width for c in counts],
                style,
                lw=0.8 if width == 10 else 1.5,
                ms=3,
                label=label,
            )
    mean = trace.mean_rate_rps * time_scale
    top.axhline(mean, color="k", ls="--", lw=0.8, label=f"mean {mean:.3g} req/s")
    top.set_xlabel("time (s)" + (f", replayed x{time_scale:g}" if time_scale != 1 else ""))
    top.set_ylabel("request rate (req/s)")
    top.set_ylim(bottom=0)
    top.legend(fontsize=8)
    top.grid(alpha=0.3)
    top.set_title(f"{trace.source} ({trace.fmt}): {len(trace):,} requests")
    for index, (values, name) in enumerate(
        ((trace.isl_tokens, "ISL (input tokens)"), (trace.osl_tokens, "OSL (output tokens)"))
    ):
        ax = fig.add_subplot(2, 2, 3 + index)
        ax.hist(values, bins=60, color=f"C{index + 2}")
        ax.set_xlabel(name)
        ax.set_ylabel("requests")
        ax.grid(alpha=0.3)
    return _save(fig, path, dpi=110)


def plot_comparison(c: Comparison, path: str | Path) -> Path:
    """Measured and predicted TTFT and TPOT (mean and p90) against the step's rate."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    steps = sorted(c.steps, key=lambda s: s.rate_rps)
    x = [s.rate_rps for s in steps]
    for ax, name, scale, unit in ((axes[0], "ttft", 1.0, "s"), (axes[1], "tpot", 1e3, "ms")):
        for stat, style in (("mean", "o"), ("p90", "s")):
            measured = [getattr(s, f"measured_{name}_{stat}_s") for s in steps]
            predicted = [getattr(s, f"predicted_{name}_{stat}_s") for s in steps]
            ax.plot(x, [_nan(v) * scale for v in measured], f"{style}-", label=f"measured {stat}")
            ax.plot(x, [_nan(v) * scale for v in predicted], f"{style}--", label=f"pdplan {stat}")
        objective = c.slo.ttft_s if name == "ttft" else c.slo.tpot_s
        ax.axhline(objective * scale, color="k", ls=":", lw=0.8, label="SLO")
        ax.set_xlabel("offered rate (req/s)")
        ax.set_ylabel(f"{name.upper()} ({unit})")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(f"Measured against pdplan, {c.allocation} (plan model {c.plan_model})")
    return _save(fig, path, dpi=120)


def plot_schedule(plan: Any, path: str | Path) -> Path:
    """Three panels over the replay's clock (hours): the request rate per SLO window; the
    instances per phase of the schedule, against the static allocation; each window's SLO
    statistics as a share of their objectives (1: at the objective)."""
    plt = _pyplot()
    fig, (rate, counts, stats) = plt.subplots(3, 1, figsize=(11, 9), sharex=True)
    windows = plan.replay.windows
    hours = [(w.start_s + w.end_s) / 2 / 3600 for w in windows]
    rate.plot(hours, [w.requests / (w.end_s - w.start_s) for w in windows], "-", lw=1.2)
    rate.set_ylabel("request rate (req/s)")
    rate.set_ylim(bottom=0)
    rate.set_title(
        f"schedule: {plan.replay.gpu_hours:,.0f} GPU-hours, {plan.saving:.0%} fewer than the "
        f"static {plan.static_allocation} ({plan.static.gpu_hours:,.0f})"
    )
    steps = plan.schedule.steps
    end_h = windows[-1].end_s / 3600
    xs = [s.start_s / 3600 for s in steps] + [end_h]
    static = plan.static_allocation.rstrip("D").split("P")
    for index, (phase, attr) in enumerate(
        (("prefill", "prefill_instances"), ("decode", "decode_instances"))
    ):
        ys = [getattr(s, attr) for s in steps]
        counts.step(xs, [*ys, ys[-1]], where="post", color=f"C{index}", label=f"{phase}")
        counts.axhline(
            int(static[index]), color=f"C{index}", ls="--", lw=0.8, label=f"{phase}, static"
        )
    counts.set_ylabel("instances serving")
    counts.set_ylim(bottom=0)
    counts.legend(fontsize=8, ncol=2)
    slo = plan.slo
    for value, objective, name, color in (
        ([w.ttft_s for w in windows], slo.ttft_s, f"{slo.ttft_stat} TTFT", "C2"),
        ([w.tpot_s for w in windows], slo.tpot_s, f"{slo.tpot_stat} TPOT", "C3"),
    ):
        stats.plot(hours, [_nan(v) / objective for v in value], "o-", ms=2, lw=0.8,
                   color=color, label=name)  # fmt: skip
    stats.axhline(1.0, color="k", ls="--", lw=0.8, label="objective")
    stats.set_ylabel("window statistic / objective")
    stats.set_xlabel("time (h)")
    stats.set_ylim(bottom=0)
    stats.legend(fontsize=8)
    for ax in (rate, counts, stats):
        ax.grid(alpha=0.3)
    return _save(fig, path, dpi=110)


def _save(fig: Any, path: str | Path, dpi: int) -> Path:
    """Lay the figure out, write it, free it; returns where it went."""
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=dpi)
    _pyplot().close(fig)
    return out
