"""Load tests of a live (P/D) deployment: open-loop arrivals at a target throughput.

Each step sends Poisson arrivals (or replays a trace) at a multiple of the target rate for a
duration, streaming, and reports achieved throughput, TTFT and TPOT (mean, p50, p90, p99),
SLO attainment and errors. Every request is on disk when it ends; a step that hits a failing
deployment is reported with its errors, not crashed on; the sweep keeps going.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from pdplan.bench.arrivals import poisson_times_s
from pdplan.bench.records import RequestRecord
from pdplan.bench.session import Session
from pdplan.models.workload import SLO
from pdplan.quantiles import Stat, summarize
from pdplan.sim.config import TraceRow
from pdplan.sim.lengths import LengthDist

__all__ = ["LoadtestSettings", "run_loadtest", "step_summary"]


@dataclass(frozen=True)
class LoadtestSettings:
    rate_rps: float  # the target (multiplier 1.0)
    isl: LengthDist
    osl: LengthDist
    duration_s: float
    slo: SLO
    multipliers: tuple[float, ...] = (1.0,)
    stat: Stat = "mean"
    trace: tuple[TraceRow, ...] | None = None
    seed: int = 42


def step_summary(
    records: list[RequestRecord], offered_rps: float, slo: SLO, stat: Stat
) -> dict[str, Any]:
    """What one step delivered; ``meets`` uses ``stat`` of TTFT and TPOT and the error rate."""
    ok = [r for r in records if r.ok]
    ttft = summarize(r.ttft_s for r in ok)
    tpot = summarize(r.tpot_s for r in ok)
    met = [
        r
        for r in ok
        if r.ttft_s is not None
        and r.ttft_s <= slo.ttft_s
        and (r.tpot_s is None or r.tpot_s <= slo.tpot_s)
    ]
    ends = [r.t_end_s for r in ok if r.t_end_s is not None]
    span = (max(ends) - min(r.t_send_s for r in ok)) if ok and ends else 0.0
    tokens = sum((r.prompt_tokens or 0) + (r.completion_tokens or 0) for r in ok)
    failed = len(records) - len(ok)
    meets = (
        bool(ok)
        and failed <= 0.01 * len(records)
        and ttft["count"] > 0
        and (ttft[stat] <= slo.ttft_s and (tpot["count"] == 0 or tpot[stat] <= slo.tpot_s))
    )
    return {
        "offered_rps": offered_rps,
        "requests": len(records),
        "failed": failed,
        "first_error": next((r.error for r in records if r.error), None),
        "achieved_rps": len(ok) / span if span > 0 else 0.0,
        "achieved_total_tps": tokens / span if span > 0 else 0.0,
        "ttft_s": ttft,
        "tpot_s": tpot,
        "slo_attainment": len(met) / len(records) if records else 0.0,
        "meets_slo": meets,
    }


def _schedule(s: LoadtestSettings, multiplier: float) -> tuple[list[float], list[tuple[int, int]]]:
    if s.trace is not None:
        rows = sorted(s.trace, key=lambda r: r.arrival_s)
        t0 = rows[0].arrival_s
        return (
            [(r.arrival_s - t0) / multiplier for r in rows],
            [(r.isl_tokens, r.osl_tokens) for r in rows],
        )
    rng = random.Random(f"{s.seed}/{multiplier}")
    rate = s.rate_rps * multiplier
    count = max(1, round(rate * s.duration_s))
    times = poisson_times_s(rate, count, rng)
    return times, [(s.isl.sample(rng), max(2, s.osl.sample(rng))) for _ in times]


async def run_loadtest(session: Session, s: LoadtestSettings) -> list[dict[str, Any]]:
    """Every step of the sweep; finished steps found on disk are reused (resume).

    Give the session ``max_failure_share=1.0``: a failing deployment is a result here.
    """
    results = []
    for multiplier in s.multipliers:
        step = f"loadtest/x{multiplier:g}"
        done = session.finished(step)
        if done is not None:  # measured by an earlier run
            done = {k: v for k, v in done.items() if k not in ("step", "base_url")}
        else:
            times, lengths = _schedule(s, multiplier)
            records = await session.open_loop(step, 1, 2, times, lengths)
            failed = sum(not r.ok for r in records)
            if failed:
                session.reporter.note(f"{step}: {failed} of {len(records)} requests failed")
            offered = len(times) / max(times[-1], 1e-9)
            done = {"multiplier": multiplier, **step_summary(records, offered, s.slo, s.stat)}
            session.save_step(step, done)
        results.append(done)
    return results
