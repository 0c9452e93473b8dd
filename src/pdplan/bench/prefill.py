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
from typing import Any

from pdplan.bench.session import Session
from pdplan.bench.stats import prefill_input_tps, steady_window, summarize
from pdplan.models.arrivals import Poisson

__all__ = ["PrefillSettings", "profile_prefill"]


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


async def _saturate(
    session: Session, isl: int, concurrency: int, total: int, min_duration_s: float
) -> dict[str, Any]:
    step = f"prefill/isl={isl}/saturate/c={concurrency}"
    if (done := session.finished(step)) is not None:
        return done
    records = await session.closed_loop(
        step, isl, 1, concurrency, total, min_duration_s=min_duration_s
    )
    window = steady_window(records, concurrency)
    summary = {
        "isl_tokens": isl,
        "concurrency": concurrency,
        "input_tps": prefill_input_tps(records, window),
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
    times = Poisson().times_s(rate, s.sweep_requests, random.Random(f"{s.seed}/{isl}/{load}"))
    records = await session.open_loop(step, isl, 1, times)
    ok = [r for r in records if r.ok]
    span = max(r.t_send_s for r in records) - min(r.t_send_s for r in records)
    summary = {
        "isl_tokens": isl,
        "load": load,
        "rate_rps": rate,
        "achieved_rate_rps": (len(records) - 1) / span if span > 0 else 0.0,
        "ttft_s": summarize(r.ttft_s for r in ok),
        "failed": len(records) - len(ok),
    }
    session.save_step(step, summary)
    return summary


async def profile_prefill(session: Session, s: PrefillSettings) -> dict[str, Any]:
    """Run every prefill step; returns the prefill part (see :mod:`pdplan.bench.assemble`)."""
    points, sweep = [], []
    for isl in s.isls:
        if session.finished(f"prefill/isl={isl}/idle") is None:
            await session.sequential(f"prefill/isl={isl}/warmup", isl, 1, s.warmup_requests)
        idle = await _idle(session, isl, s)
        best = await _tpmax(session, isl, s)
        points.append(
            {
                "isl_tokens": isl,
                "max_tps": best["input_tps"],
                "concurrency": best["concurrency"],
                "idle_ttft_s": idle["ttft_s"]["mean"],
            }
        )
        mu_rps = best["input_tps"] / isl
        for load in s.loads:
            step = await _poisson(session, isl, load, mu_rps, s)
            ttft = step["ttft_s"]
            sweep.append(
                {
                    "isl_tokens": isl,
                    "rate_rps": step["achieved_rate_rps"],
                    "ttft_mean_s": ttft["mean"],
                    "ttft_p50_s": ttft["p50"],
                    "ttft_p90_s": ttft["p90"],
                    "ttft_p99_s": ttft["p99"],
                    "requests": ttft["count"],
                }
            )
    return {"max_throughput": points, "ttft_vs_rate": sweep}
