"""Prefill profiling: TPmax per ISL, idle TTFT, and TTFT against Poisson arrival rate.

For each ISL: warm up; measure the zero-load TTFT with sequential requests; saturate the
instance with ``max_tokens=1`` requests in a closed loop and take the prompt tokens/s of the
steady window (TPmax), raising the concurrency until TPmax stops growing when asked
(``concurrency=None``); then, when ``loads`` are given, an open-loop Poisson sweep at those
utilizations of ``mu = TPmax / ISL`` (the paper's Figure 1).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from time import perf_counter
from typing import Any

from pdplan.bench.records import RequestRecord
from pdplan.bench.session import Session
from pdplan.bench.stats import (
    STEADY_TOLERANCE,
    interval_of,
    lower_upper,
    prefill_input_tps,
    prefill_tps_interval,
    steady_window,
    summarize,
)
from pdplan.schema.arrivals import Poisson
from pdplan.schema.parts import PrefillPart
from pdplan.schema.profile import PrefillPoint, TtftRatePoint

__all__ = ["DRIFT_WARNING", "PrefillSettings", "profile_prefill"]

#: TPmax measured again at the end moving more than this share is reported as drift.
DRIFT_WARNING = 0.1


@dataclass(frozen=True)
class PrefillSettings:
    isls: tuple[int, ...]
    concurrency: int | None = None  # None: ramp 1, 2, 4, ... until TPmax stops growing
    max_concurrency: int = 32
    requests: int = 48  # per saturation step, at least
    min_duration_s: float = 5.0  # per saturation step, at least
    idle_requests: int = 10
    warmup_requests: int = 4
    loads: tuple[float, ...] = ()  # utilizations for the Poisson TTFT sweep
    sweep_requests: int = 120
    seed: int = 42
    # a sweep point runs on, sweep_requests at a time, until its mean TTFT's 90 % interval is
    # within +-precision of the mean (None: one run of sweep_requests) or point_budget_s ends
    precision: float | None = None
    point_budget_s: float = 600.0
    drift_check: bool = True  # measure TPmax at the first ISL again at the end


async def _saturate(
    session: Session,
    isl: int,
    concurrency: int,
    total: int,
    min_duration_s: float,
    step: str | None = None,
) -> dict[str, Any]:
    step = step or f"prefill/isl={isl}/saturate/c={concurrency}"
    if (done := session.finished(step)) is not None:
        return done
    records = await session.closed_loop(
        step, isl, 1, concurrency, total, min_duration_s=min_duration_s
    )
    window = steady_window(records, concurrency)
    interval, change = prefill_tps_interval(records, window)
    if abs(change) > STEADY_TOLERANCE:
        session.reporter.note(
            f"{step}: the second half of the steady window ran {change:+.0%} against the first "
            "(not a steady state: warm-up, throttling or another load?)"
        )
    summary = {
        "isl_tokens": isl,
        "concurrency": concurrency,
        "input_tps": prefill_input_tps(records, window),
        "input_tps_interval": lower_upper(interval),
        "steady_change": change,
        "window_s": window[1] - window[0],
        "ttft_s": summarize(r.ttft_s for r in records if r.ok),
        "prompt_tokens": summarize(r.prompt_tokens for r in records if r.ok),
        "failed": sum(not r.ok for r in records),
    }
    session.save_step(step, summary)
    return summary


async def _tpmax(session: Session, isl: int, s: PrefillSettings) -> dict[str, Any]:
    if s.concurrency is not None:
        return await _saturate(
            session, isl, s.concurrency, max(s.requests, 3 * s.concurrency), s.min_duration_s
        )
    best: dict[str, Any] | None = None
    concurrency = 1
    while concurrency <= s.max_concurrency:
        current = await _saturate(
            session, isl, concurrency, max(s.requests, 3 * concurrency), s.min_duration_s
        )
        if best is not None and current["input_tps"] < 1.05 * best["input_tps"]:
            return best if best["input_tps"] >= current["input_tps"] else current
        best = current
        concurrency *= 2
    assert best is not None
    return best


async def _idle(session: Session, isl: int, s: PrefillSettings) -> dict[str, Any]:
    step = f"prefill/isl={isl}/idle"
    if (done := session.finished(step)) is not None:
        return done
    records = await session.sequential(step, isl, 1, s.idle_requests)
    summary = {"isl_tokens": isl, "ttft_s": summarize(r.ttft_s for r in records if r.ok)}
    session.save_step(step, summary)
    return summary


async def _poisson(
    session: Session, isl: int, load: float, mu_rps: float, s: PrefillSettings
) -> dict[str, Any]:
    rate = load * mu_rps
    step = f"prefill/isl={isl}/poisson/load={load:g}"
    if (done := session.finished(step)) is not None:
        return done
    rng = random.Random(f"{s.seed}/{isl}/{load}")
    records: list[RequestRecord] = []
    started = perf_counter()
    while True:  # chunks of sweep_requests until the precision (or the budget) is reached
        times = Poisson().times_s(rate, s.sweep_requests, rng)
        records += await session.open_loop(step, isl, 1, times)
        interval = interval_of([r.ttft_s for r in records if r.ok and r.ttft_s is not None])
        precise = interval is not None and (
            s.precision is not None and interval.half_width_share <= s.precision
        )
        elapsed = perf_counter() - started
        if s.precision is None or precise or elapsed + times[-1] > s.point_budget_s:
            break
    if s.precision is not None and not precise:
        got = "no interval" if interval is None else f"+-{interval.half_width_share:.0%}"
        session.reporter.note(
            f"{step}: {len(records)} requests in {perf_counter() - started:.0f} s reached "
            f"{got}, not the asked +-{s.precision:.0%} (--point-budget ends the point): the "
            "mean TTFT of this point is less precise than asked"
        )
    ok = [r for r in records if r.ok]
    span = max(r.t_send_s for r in records) - min(r.t_send_s for r in records)
    summary = {
        "isl_tokens": isl,
        "load": load,
        "rate_rps": rate,
        "achieved_rate_rps": (len(records) - 1) / span if span > 0 else 0.0,
        "ttft_s": summarize(r.ttft_s for r in ok),
        "ttft_mean_interval_s": lower_upper(interval),
        "precision_reached": precise if s.precision is not None else None,
        "failed": len(records) - len(ok),
    }
    session.save_step(step, summary)
    return summary


async def profile_prefill(session: Session, s: PrefillSettings) -> PrefillPart:
    """Run every prefill step; returns the prefill part."""
    points, sweep = [], []
    first: dict[str, Any] | None = None
    for isl in s.isls:
        if session.finished(f"prefill/isl={isl}/idle") is None:
            await session.sequential(f"prefill/isl={isl}/warmup", isl, 1, s.warmup_requests)
        idle = await _idle(session, isl, s)
        best = await _tpmax(session, isl, s)
        first = first or best
        bounds = best.get("input_tps_interval") or {}
        points.append(
            {
                "isl_tokens": isl,
                "max_tps": best["input_tps"],
                "max_tps_low": _clip(bounds.get("low"), hi=best["input_tps"]),
                "max_tps_high": _clip(bounds.get("high"), lo=best["input_tps"]),
                "concurrency": best["concurrency"],
                "idle_ttft_s": idle["ttft_s"]["mean"],
            }
        )
        mu_rps = best["input_tps"] / isl
        for load in s.loads:
            step = await _poisson(session, isl, load, mu_rps, s)
            ttft = step["ttft_s"]
            mean_bounds = step.get("ttft_mean_interval_s") or {}
            sweep.append(
                {
                    "isl_tokens": isl,
                    "rate_rps": step["achieved_rate_rps"],
                    "ttft_mean_s": ttft["mean"],
                    "ttft_mean_low_s": _clip(mean_bounds.get("low"), hi=ttft["mean"]),
                    "ttft_mean_high_s": _clip(mean_bounds.get("high"), lo=ttft["mean"]),
                    "ttft_p50_s": ttft["p50"],
                    "ttft_p90_s": ttft["p90"],
                    "ttft_p99_s": ttft["p99"],
                    "requests": ttft["count"],
                }
            )
    drift = await _drift(session, first, s) if s.drift_check and first is not None else None
    return PrefillPart(
        max_throughput=[PrefillPoint.model_validate(p) for p in points],
        ttft_vs_rate=[TtftRatePoint.model_validate(p) for p in sweep],
        tpmax_drift=drift,
    )


async def _drift(session: Session, first: dict[str, Any], s: PrefillSettings) -> float:
    """TPmax at the first ISL measured again at the end, relative to the first time."""
    isl, concurrency = first["isl_tokens"], first["concurrency"]
    again = await _saturate(
        session,
        isl,
        concurrency,
        max(s.requests, 3 * concurrency),
        s.min_duration_s,
        step=f"prefill/isl={isl}/saturate-again/c={concurrency}",
    )
    drift = float(again["input_tps"] / first["input_tps"] - 1)
    if abs(drift) > DRIFT_WARNING:
        session.reporter.note(
            f"TPmax at ISL {isl} moved {drift:+.0%} between the start and the end of the "
            "profile: the engine drifts; plans from this profile carry that much uncertainty "
            "beyond their intervals"
        )
    return drift


def _clip(value: float | None, *, lo: float | None = None, hi: float | None = None) -> Any:
    """An interval end, kept on its side of the value (and positive)."""
    if value is None:
        return None
    if lo is not None:
        value = max(value, lo)
    if hi is not None:
        value = min(value, hi)
    return max(value, 1e-9)
