"""Summaries of measured requests. Pure functions over records; no I/O.

The steady window of a closed-loop step runs from the ``concurrency``-th completion (every
worker has cycled once) to the ``(n - concurrency)``-th completion (before the drain), so that
the engine held the full concurrency throughout.
"""

from __future__ import annotations

from collections.abc import Sequence

from pdplan.bench.records import RequestRecord
from pdplan.quantiles import percentile, summarize

__all__ = [
    "decode_output_tps",
    "percentile",
    "prefill_input_tps",
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
    floor = max(share * percentile(tpots, 50), floor_s)
    kept = [r for r in records if r.tpot_s is None or r.tpot_s >= floor]
    bursty = [r for r in records if r.tpot_s is not None and r.tpot_s < floor]
    return kept, bursty
