"""Measurement intervals into plans: bounded profiles, capacity ranges, --confidence, and the
engine SCV fit falling back to the prior when the sweep cannot pin it down."""

from __future__ import annotations

import random
from typing import Any

import pytest

from pdplan import SLO, Workload, default_profile, size
from pdplan.engine.uncertainty import bounded_profile, has_intervals
from pdplan.engine.variability import engine_scv, fit_engine_scv
from pdplan.io import parse_profile
from pdplan.quantiles import batch_means_interval, median_interval
from pdplan.schema.profile import Profile


def _with_intervals(share: float = 0.05) -> Profile:
    p = default_profile()
    point = p.prefill.max_throughput[0]
    tpmax = point.model_copy(
        update={
            "max_tps_low": point.max_tps * (1 - share),
            "max_tps_high": point.max_tps * (1 + share),
        }
    )
    points = [
        x.model_copy(
            update={"tpot_low_ms": x.tpot_ms * (1 - share), "tpot_high_ms": x.tpot_ms * (1 + share)}
        )
        for x in p.decode.curves[0].points
    ]
    prefill = p.prefill.model_copy(
        update={"max_throughput": [tpmax], "overhead_low_s": 0.09, "overhead_high_s": 0.12}
    )
    curve = p.decode.curves[0].model_copy(update={"points": points})
    decode = p.decode.model_copy(update={"curves": [curve]})
    return p.model_copy(update={"prefill": prefill, "decode": decode})


WORKLOAD = Workload.from_tpm(isl_tokens=6144, osl_tokens=512, tpm=5e6)
SLO_ = SLO(ttft_s=2.0, tpot_s=0.020)


def test_bounded_profiles_move_every_measured_value_to_its_end() -> None:
    p = _with_intervals()
    low, high = bounded_profile(p, "pessimistic"), bounded_profile(p, "optimistic")
    assert low.prefill.max_throughput[0].max_tps == pytest.approx(28309 * 0.95)
    assert high.prefill.max_throughput[0].max_tps == pytest.approx(28309 * 1.05)
    assert (low.prefill.overhead_s, high.prefill.overhead_s) == (0.12, 0.09)
    assert low.decode.curves[0].points[0].tpot_ms == pytest.approx(12.8 * 1.05)
    wider = bounded_profile(p, "pessimistic", confidence=0.99)  # scaled by z(0.995)/z(0.95)
    assert wider.prefill.max_throughput[0].max_tps == pytest.approx(
        28309 * (1 - 0.05 * 1.566), rel=1e-3
    )
    assert not has_intervals(default_profile()) and has_intervals(p)


def test_a_plan_carries_its_capacity_range_and_confidence_plans_on_the_low_end() -> None:
    p = _with_intervals()
    plan = size(p, WORKLOAD, SLO_)
    assert plan.capacity_low_tps is not None and plan.capacity_high_tps is not None
    assert plan.capacity_low_tps < plan.allocation.max_total_tps < plan.capacity_high_tps
    assert size(default_profile(), WORKLOAD, SLO_).capacity_low_tps is None
    careful = size(p, WORKLOAD, SLO_, confidence=0.9)
    a, b = careful.allocation, plan.allocation
    assert (a.prefill_instances, a.decode_instances) >= (b.prefill_instances, b.decode_instances)
    assert careful.allocation.gpus >= plan.allocation.gpus  # type: ignore[operator]
    assert careful.confidence == 0.9
    # more measurement noise, a lower pessimistic capacity
    noisy = size(_with_intervals(0.15), WORKLOAD, SLO_)
    assert noisy.capacity_low_tps < plan.capacity_low_tps  # type: ignore[operator]


def _sweep_profile(points: list[tuple[float, float]], profile_dict: dict[str, Any]) -> Profile:
    """A profile whose ISL-1000 sweep has (utilization, mean TTFT s) points."""
    data = dict(profile_dict)
    prefill = dict(data["prefill"])
    prefill["max_throughput"] = [{"isl_tokens": 1000, "max_tps": 10000, "idle_ttft_s": 0.15}]
    prefill["ttft_vs_rate"] = [
        {"isl_tokens": 1000, "rate_rps": rho * 10, "ttft_mean_s": t, "ttft_p50_s": t,
         "ttft_p90_s": t, "ttft_p99_s": t, "requests": 300}
        for rho, t in points
    ]  # fmt: skip
    data["prefill"] = prefill
    return parse_profile(data)


def _md1(rho: float) -> float:  # idle 0.15 s + M/D/1 wait at service 0.1 s
    return 0.15 + rho * 0.1 / (2 * (1 - rho))


def test_an_scv_fit_is_used_only_with_enough_and_consistent_points(
    profile_dict: dict[str, Any],
) -> None:
    steady = _sweep_profile([(r, _md1(r)) for r in (0.5, 0.6, 0.7, 0.8)], profile_dict)
    fit = fit_engine_scv(steady.prefill)
    assert fit is not None and fit.trusted and fit.scv == pytest.approx(0.0, abs=1e-6)
    assert engine_scv(steady.prefill)[0] == pytest.approx(0.0, abs=1e-6)
    two = _sweep_profile([(0.6, _md1(0.6)), (0.8, _md1(0.8))], profile_dict)
    scv, why = engine_scv(two.prefill)
    assert scv == 1.0 and "fewer than 3" in why and "exponential service assumed" in why
    assert engine_scv(two.prefill, "queueing") == (0.0, engine_scv(two.prefill, "queueing")[1])
    assert "deterministic engine assumed" in engine_scv(two.prefill, "queueing")[1]
    # four points that disagree (M/D/1-like and far above M/M/1): the fit is not trusted
    wild = [(0.5, _md1(0.5)), (0.6, 0.15 + 3.0), (0.7, _md1(0.7)), (0.8, 0.15 + 4.0)]
    scv, why = engine_scv(_sweep_profile(wild, profile_dict).prefill)
    assert scv == 1.0 and "is uncertain" in why


def test_batch_means_interval_covers_the_mean_of_a_correlated_series() -> None:
    """An AR(1) series (a queue's latencies are correlated like this): the batch-means 90 %
    interval covers the true mean about 90 % of the time; a naive t interval would not."""
    rng = random.Random(5)
    covered = naive_covered = 0
    trials = 300
    for _ in range(trials):
        x, series = 0.0, []
        for _ in range(2000):
            x = 0.9 * x + rng.gauss(0, 1)
            series.append(x)
        i = batch_means_interval(series, batches=10)
        assert i is not None
        covered += i.low <= 0 <= i.high
        naive = batch_means_interval(series, batches=len(series) // 2)
        assert naive is not None
        naive_covered += naive.low <= 0 <= naive.high
    assert 0.82 <= covered / trials <= 0.97
    assert naive_covered / trials < 0.6


def test_median_interval_coverage() -> None:
    rng = random.Random(2)
    hits = sum(
        lo <= 0 <= hi
        for lo, hi in (median_interval([rng.gauss(0, 1) for _ in range(15)]) for _ in range(2000))
    )
    assert hits / 2000 >= 0.9
