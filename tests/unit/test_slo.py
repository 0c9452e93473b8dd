"""SLO-constrained per-instance throughput, checked against values derived by hand."""

from __future__ import annotations

import pytest

from pdplan.capacity.decode import decode_max_batch
from pdplan.capacity.prefill import min_mean_ttft_s
from pdplan.capacity.prefill import paper_effective_tps as prefill_effective_tps
from pdplan.errors import InfeasibleSLOError

PAPER_BATCHES = [10, 20, 30, 40, 50, 60]
PAPER_TPOT_S = [0.0128, 0.0164, 0.0188, 0.0216, 0.0239, 0.0262]


def test_prefill_eq13_paper_example() -> None:
    # 28309 - 6144 / (2 - 0.1) = 28309 - 3233.684... = 25075.316
    assert prefill_effective_tps(28309, 6144, 2.0, 0.1) == pytest.approx(25075.3158, abs=1e-3)


def test_prefill_round_numbers() -> None:
    # mu = 10000/1000 = 10 req/s; budget 0.5 s -> lambda = 10 - 2 = 8 req/s -> 8000 tok/s.
    assert prefill_effective_tps(10000, 1000, 0.55, 0.05) == pytest.approx(8000.0)


def test_prefill_dp_groups_are_independent_queues() -> None:
    # 2 groups of 5000 tok/s: mu_g = 5 req/s, lambda_g = 5 - 2 = 3 -> 2 * 3 * 1000 tok/s.
    assert prefill_effective_tps(10000, 1000, 0.55, 0.05, dp_groups=2) == pytest.approx(6000.0)


def test_infeasible_ttft_names_the_smallest_achievable() -> None:
    floor = min_mean_ttft_s(28309, 6144, 0.1)
    assert floor == pytest.approx(0.1 + 6144 / 28309)
    with pytest.raises(InfeasibleSLOError, match=r"0\.317 s") as info:
        prefill_effective_tps(28309, 6144, 0.3, 0.1)
    assert info.value.field == "ttft"
    assert info.value.achievable == pytest.approx(floor)
    with pytest.raises(InfeasibleSLOError):  # exactly at the floor: zero throughput
        prefill_effective_tps(28309, 6144, floor, 0.1)


def test_decode_batch_paper_example() -> None:
    # TPOT 20 ms lies between batch 30 (18.8) and 40 (21.6): 30 + 10 * 1.2 / 2.8 = 34.29 -> 34,
    # TPOT(34) = 18.8 + 4 * 0.28 = 19.92 ms, TP_d = 34 / 0.01992 = 1706.8 tok/s.
    chosen = decode_max_batch(PAPER_BATCHES, PAPER_TPOT_S, 0.020)
    assert (chosen.batch, chosen.limit, chosen.repaired) == (34, "tpot_slo", False)
    assert chosen.tpot_s == pytest.approx(0.01992)
    assert chosen.batch / chosen.tpot_s == pytest.approx(1706.83, abs=0.01)


def test_decode_batch_exactly_on_a_measured_point() -> None:
    assert decode_max_batch(PAPER_BATCHES, PAPER_TPOT_S, 0.0188).batch == 30


def test_decode_batch_never_extrapolates() -> None:
    chosen = decode_max_batch(PAPER_BATCHES, PAPER_TPOT_S, 0.050)
    assert (chosen.batch, chosen.limit) == (60, "measured_range")


def test_decode_batch_kv_cap() -> None:
    chosen = decode_max_batch(PAPER_BATCHES, PAPER_TPOT_S, 0.020, max_batch=25)
    assert (chosen.batch, chosen.limit) == (25, "kv_capacity")
    assert chosen.tpot_s == pytest.approx(0.0176)


def test_decode_tpot_below_measured_is_infeasible() -> None:
    with pytest.raises(InfeasibleSLOError, match=r"12\.8 ms") as info:
        decode_max_batch(PAPER_BATCHES, PAPER_TPOT_S, 0.010)
    assert info.value.field == "tpot"


def test_decode_kv_cache_too_small_for_one_request() -> None:
    with pytest.raises(InfeasibleSLOError, match="KV cache"):
        decode_max_batch(PAPER_BATCHES, PAPER_TPOT_S, 0.020, max_batch=0)
