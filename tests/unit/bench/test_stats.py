from __future__ import annotations

import pytest

from pdplan.bench.records import RequestRecord
from pdplan.bench.stats import (
    decode_output_tps,
    prefill_input_tps,
    quantile,
    split_bursty,
    steady_window,
    summarize,
)


def rec(t_send: float, t_first: float, t_last: float, n: int, isl: int = 100) -> RequestRecord:
    return RequestRecord(
        step="s",
        isl_tokens=isl,
        max_tokens=n,
        t_send_s=t_send,
        t_first_s=t_first,
        t_last_s=t_last,
        t_end_s=t_last,
        prompt_tokens=isl,
        completion_tokens=n,
    )


def test_percentiles_match_numpy_linear() -> None:
    values = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert quantile(values, 0.5) == 3.0
    assert quantile(values, 0.9) == pytest.approx(4.6)
    s = summarize([1.0, None, 3.0])
    assert (s["mean"], s["count"]) == (2.0, 2)
    assert summarize([]) == {"count": 0}


def test_tpot_uses_usage_count() -> None:
    r = rec(0.0, 1.0, 2.0, 11)
    assert r.tpot_s == pytest.approx(0.1)
    assert r.ttft_s == 1.0
    assert rec(0.0, 1.0, 1.0, 1).tpot_s is None


def test_steady_window_drops_ramp_and_drain() -> None:
    records = [rec(0, i, i, 1) for i in range(1, 11)]
    assert steady_window(records, 2) == (2, 8)
    with pytest.raises(ValueError, match="needs >= 5"):
        steady_window(records[:4], 2)


def test_prefill_tps_counts_prompt_tokens_in_window() -> None:
    records = [rec(0, i, i, 1, isl=100) for i in range(1, 11)]
    assert prefill_input_tps(records, (2, 8)) == pytest.approx(600 / 6)


def test_decode_tps_spreads_tokens_over_the_span() -> None:
    # One request: first token at 0, 10 more tokens evenly over (0, 10]; window (5, 10].
    records = [rec(-1, 0.0, 10.0, 11)]
    assert decode_output_tps(records, (5.0, 10.0)) == pytest.approx(5 / 5)
    assert decode_output_tps(records, (-1.0, 10.0)) == pytest.approx(11 / 11)


def test_mostly_bursty_step_needs_the_absolute_floor() -> None:
    # 11 tokens: TPOT = (t_last - t_first) / 10. Two real streams at 3 ms/token, four that
    # arrived in one burst (0.01 ms/token): the median is a burst, so only the floor (half
    # the batch-1 TPOT, here 2 ms / 2) separates them.
    real = [rec(0.0, 0.01, 0.01 + 10 * 0.003, 11) for _ in range(2)]
    burst = [rec(0.0, 0.05, 0.05 + 10 * 0.00001, 11) for _ in range(4)]
    kept, bursty = split_bursty(real + burst)
    assert len(bursty) == 0  # the median is bursty: the relative rule sees nothing
    kept, bursty = split_bursty(real + burst, floor_s=0.001)
    assert kept == real and bursty == burst
