"""Decode profiling: a closed-loop concurrency sweep at one (ISL, OSL), the paper's Figure 2.

At each batch size B, B workers each send ``rounds`` requests of ISL input tokens and
``max_tokens = OSL`` with ``ignore_eos`` back to back. In the steady window (all B in flight)
pdplan reports TPOT over the requests that lived inside it (mean and percentiles), the output
tokens/s generated inside it, and B / mean TPOT beside it: the two throughputs differ (prefills
of arriving requests interleave with decode steps); the measured one is the truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pdplan.bench.records import RequestRecord
from pdplan.bench.session import Session
from pdplan.bench.stats import (
    decode_output_tps,
    interval_of,
    lower_upper,
    split_bursty,
    steady_window,
    summarize,
)
from pdplan.errors import BenchmarkError
from pdplan.schema.profile import DecodeCurve, DecodePoint
from pdplan.units import s_to_ms

__all__ = ["DecodeSettings", "profile_decode"]

BURST_FLOOR_OF_SMALLEST = 0.5  # a stream below half the smallest batch's median TPOT is a burst


@dataclass(frozen=True)
class DecodeSettings:
    isl_tokens: int
    osl_tokens: int
    batches: tuple[int, ...]
    rounds: int = 4
    warmup_requests: int = 2
    stagger: bool = True  # spread the workers' first requests (see run_closed_loop)
    min_duration_s: float = 5.0  # per batch size, at least


def _mean_duration_s(records: list[RequestRecord]) -> float:
    durations = [r.t_end_s - r.t_send_s for r in records if r.ok and r.t_end_s is not None]
    return sum(durations) / len(durations) if durations else 0.0


async def _batch(
    session: Session, s: DecodeSettings, batch: int, request_s: float, floor_s: float
) -> dict[str, Any]:
    """One batch size; ``request_s`` (a request's expected duration) sets the start stagger,
    ``floor_s`` the TPOT below which a stream counts as bursty whatever the step's median."""
    step = f"decode/isl={s.isl_tokens}/osl={s.osl_tokens}/batch={batch}"
    if (done := session.finished(step)) is not None:
        return done
    stagger_s = request_s / batch if s.stagger else 0.0
    records = await session.closed_loop(
        step,
        s.isl_tokens,
        s.osl_tokens,
        batch,
        batch * max(s.rounds, 3),
        stagger_s,
        s.min_duration_s,
    )
    w0, w1 = steady_window(records, batch)
    inside = [
        r
        for r in records
        if r.ok
        and r.t_first_s is not None
        and r.t_end_s is not None
        and r.t_first_s >= w0
        and r.t_end_s <= w1
    ]
    used = inside or [r for r in records if r.ok]
    used, bursty = split_bursty(used, floor_s=floor_s)
    tpot = summarize(r.tpot_s for r in used)
    in_order = sorted(used, key=lambda r: r.t_send_s)
    interval = interval_of([r.tpot_s for r in in_order if r.tpot_s is not None], batches=5)
    summary = {
        "batch": batch,
        "tpot_s": tpot,
        "tpot_mean_interval_s": lower_upper(interval),
        "output_tps": decode_output_tps(records, (w0, w1)),
        "batch_over_tpot_tps": batch / tpot["mean"] if tpot["count"] else None,
        "completion_tokens": summarize(r.completion_tokens for r in records if r.ok),
        "window_s": w1 - w0,
        "requests_in_window": len(inside),
        "bursty_requests": len(bursty),
        "request_s": _mean_duration_s(records),
        "stagger_s": stagger_s,
        "failed": sum(not r.ok for r in records),
    }
    session.save_step(step, summary)
    return summary


async def profile_decode(session: Session, s: DecodeSettings) -> DecodeCurve:
    """Run the sweep; returns one decode curve (the decode part's ``curves`` entry)."""
    first = f"decode/isl={s.isl_tokens}/osl={s.osl_tokens}/batch={s.batches[0]}"
    request_s = 0.0
    if session.finished(first) is None:
        warm = await session.sequential(
            f"decode/isl={s.isl_tokens}/osl={s.osl_tokens}/warmup",
            s.isl_tokens,
            s.osl_tokens,
            s.warmup_requests,
        )
        request_s = _mean_duration_s(warm)
    points = []
    floor_s = 0.0  # half the smallest batch's TPOT: no larger batch decodes faster
    for batch in s.batches:
        step = await _batch(session, s, batch, request_s, floor_s)
        request_s = step.get("request_s", request_s)
        if not floor_s and step["tpot_s"]["count"]:
            floor_s = BURST_FLOOR_OF_SMALLEST * step["tpot_s"]["p50"]
        if step.get("bursty_requests"):
            session.reporter.note(
                f"batch {batch}: {step['bursty_requests']} request(s) received all tokens in one "
                "burst (delivery stall, not generation); left out of TPOT, kept in records"
            )
        if not step["tpot_s"]["count"]:
            raise BenchmarkError(
                f"decode batch {batch}: every stream arrived in bursts (no token timing); the "
                "client or the server is starved of CPU: see docs/measuring.md, 'Measuring on "
                f"a small machine'; raw samples kept in {session.out_dir}"
            )
        tpot = step["tpot_s"]
        bounds = step.get("tpot_mean_interval_s") or {}
        low, high = bounds.get("low"), bounds.get("high")
        points.append(
            {
                "batch": batch,
                "tpot_ms": s_to_ms(tpot["mean"]),
                "tpot_low_ms": None if low is None else s_to_ms(min(max(low, 1e-6), tpot["mean"])),
                "tpot_high_ms": None if high is None else s_to_ms(max(high, tpot["mean"])),
                "tpot_p50_ms": s_to_ms(tpot["p50"]),
                "tpot_p90_ms": s_to_ms(tpot["p90"]),
                "tpot_p99_ms": s_to_ms(tpot["p99"]),
                "output_tps": step["output_tps"],
            }
        )
    return DecodeCurve(
        isl_tokens=s.isl_tokens,
        osl_tokens=s.osl_tokens,
        points=[DecodePoint.model_validate(p) for p in points],
    )
