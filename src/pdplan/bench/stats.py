"""Summaries of measured requests. Pure functions over records; no I/O.

The steady window of a closed-loop step runs from the ``concurrency``-th completion (every
worker has cycled once) to the ``(n - concurrency)``-th completion (before the drain), so that
the engine held the full concurrency throughout.
"""

from __future__ import annotations

from collections.abc import Sequence

from pdplan.bench.records import RequestRecord
from pdplan.quantiles import (
    Interval,
    batch_means_interval,
    mean_interval,
    quantile,
    summarize,
)

#: A saturation step whose second half runs faster or slower than its first by more than this
#: share was not steady (warm-up, throttling, another load on the machine).
STEADY_TOLERANCE = 0.1

__all__ = [
    "STEADY_TOLERANCE",
    "decode_output_tps",
    "interval_of",
    "lower_upper",
    "prefill_input_tps",
    "prefill_tps_interval",
    "quantile",
    "split_bursty",
    "steady_window",
    "summarize",
]


def steady_window(records: Sequence[RequestRecord], concurrency: int) -> tuple[float, float]:
    """(start, end) perf_counter seconds of the full-concurrency part of a closed-loop step.

    :raises ValueError: with fewer than ``2 * concurrency + 1`` successful requests
    """
    ends = sorted(r.t_end_s for r in records if r.ok and r.t_end_s is not None)
    if len(ends) < 2 * concurrency + 1:
        raise ValueError(
            f"steady window needs >= {2 * concurrency + 1} successful requests, got {len(ends)}"
        )
    return ends[concurrency - 1], ends[len(ends) - concurrency - 1]


def prefill_input_tps(records: Sequence[RequestRecord], window: tuple[float, float]) -> float:
    """Prompt tokens per second of the requests whose first token came inside the window."""
    w0, w1 = window
    tokens = sum(
        r.prompt_tokens or 0
        for r in records
        if r.ok and r.t_first_s is not None and w0 < r.t_first_s <= w1
    )
    return tokens / (w1 - w0)


def decode_output_tps(records: Sequence[RequestRecord], window: tuple[float, float]) -> float:
    """Output tokens per second generated inside the window.

    The first token of a request is at ``t_first``; its other ``n - 1`` tokens are spread
    evenly over ``(t_first, t_last]`` (the usage block gives the count, chunks only the span).
    """
    w0, w1 = window
    tokens = 0.0
    for r in records:
        n = r.completion_tokens
        if not r.ok or n is None or r.t_first_s is None or r.t_last_s is None:
            continue
        if w0 < r.t_first_s <= w1:
            tokens += 1
        span = r.t_last_s - r.t_first_s
        if n > 1 and span > 0:
            overlap = max(0.0, min(w1, r.t_last_s) - max(w0, r.t_first_s))
            tokens += (n - 1) * overlap / span
    return tokens / (w1 - w0)


BURST_SHARE = 0.2


def split_bursty(
    records: Sequence[RequestRecord], share: float = BURST_SHARE, floor_s: float = 0.0
) -> tuple[list[RequestRecord], list[RequestRecord]]:
    """Split off requests whose tokens arrived in one burst: TPOT < ``share`` x the median,
    or below ``floor_s`` (an absolute floor, e.g. half the TPOT measured at batch 1: a bigger
    batch is never faster, and a step whose streams are mostly bursty has a bursty median).

    Such a stream carries no timing (the engine's front end or the network held the tokens
    and released them together), so its TPOT is not a generation time. Callers report how
    many they left out.

    >>> from pdplan.bench.records import RequestRecord as R
    >>> rs = [R("s", 1, 11, 0.0, 1.0, 1.0 + d, 1.0 + d, 1, 11) for d in (1.0, 1.1, 0.9, 0.001)]
    >>> [len(part) for part in split_bursty(rs)]
    [3, 1]
    """
    tpots = [r.tpot_s for r in records if r.tpot_s is not None]
    if not tpots:
        return list(records), []
    floor = max(share * quantile(tpots, 0.5), floor_s)
    kept = [r for r in records if r.tpot_s is None or r.tpot_s >= floor]
    bursty = [r for r in records if r.tpot_s is not None and r.tpot_s < floor]
    return kept, bursty


def interval_of(values: Sequence[float], batches: int = 10) -> Interval | None:
    """A 90 % interval of the mean of a series in time order: batch means when there are
    enough values (two per batch), else Student t over the values; None below two."""
    kept = list(values)
    if len(kept) < 2:
        return None
    found = batch_means_interval(kept, batches=min(batches, len(kept) // 2))
    return found or mean_interval(kept)


def lower_upper(interval: Interval | None) -> dict[str, float | None]:
    """``{"low": .., "high": ..}`` of an interval (Nones without one), for a step summary."""
    if interval is None:
        return {"low": None, "high": None}
    return {"low": interval.low, "high": interval.high}


def prefill_tps_interval(
    records: Sequence[RequestRecord], window: tuple[float, float], parts: int = 6
) -> tuple[Interval | None, float]:
    """TPmax's interval from the prompt tokens/s of ``parts`` equal sub-windows of the steady
    window, and the relative change from its first half to its second (a steady-state test:
    beyond :data:`STEADY_TOLERANCE` the engine was not in a steady state)."""
    w0, w1 = window
    width = (w1 - w0) / parts
    rates = [
        prefill_input_tps(records, (w0 + k * width, w0 + (k + 1) * width)) for k in range(parts)
    ]
    half = parts // 2
    first, second = sum(rates[:half]) / half, sum(rates[half:]) / (parts - half)
    change = second / first - 1 if first > 0 else 0.0
    return (mean_interval(rates) if parts > 1 else None), change
