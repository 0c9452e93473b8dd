"""The simulator against queueing closed forms on long seeded runs (Ciw-style), and its laws."""

from __future__ import annotations

import math

import pytest

from pdplan import SLO, Exponential, Fixed, Profile, Workload
from pdplan.io import parse_profile
from pdplan.queueing import erlang_c, md1_mean_sojourn_s, mm1_mean_sojourn_s, mmc_mean_sojourn_s
from pdplan.queueing.mm1 import mm1_sojourn_quantile_s
from pdplan.sim import ClusterConfig, SimConfig, simulate

TPMAX = 10_000.0  # tok/s: a 1000-token request takes 0.1 s, mu = 10 req/s


def flat_profile(tpot_ms: float = 10.0, max_batch: int = 4096, overhead_s: float = 0.0) -> Profile:
    """One TPmax for every ISL, zero overhead, TPOT independent of the batch."""
    return parse_profile(
        {
            "schema_version": 1,
            "prefill": {
                "gpus_per_instance": 1,
                "overhead_s": overhead_s,
                "max_throughput": [{"isl_tokens": 1000, "max_tps": TPMAX}],
            },
            "decode": {
                "gpus_per_instance": 1,
                "curves": [
                    {
                        "isl_tokens": 1000,
                        "osl_tokens": 10,
                        "points": [
                            {"batch": 1, "tpot_ms": tpot_ms},
                            {"batch": max_batch, "tpot_ms": tpot_ms},
                        ],
                    }
                ],
            },
        }
    )


def config(
    cluster: ClusterConfig, rate_rps: float, isl: object, osl: object, **kw: object
) -> SimConfig:
    """A simulation of Poisson arrivals at ``rate_rps`` with these length distributions."""
    workload = Workload.from_rps(rate_rps=rate_rps, isl=isl, osl=osl)
    return SimConfig(cluster=cluster, workload=workload, **kw)  # type: ignore[arg-type]


def cluster(**kw: object) -> ClusterConfig:
    """A cluster whose prefill service time is exactly the ISL's (no engine noise)."""
    return ClusterConfig(prefill_service_scv=0.0, **kw)  # type: ignore[arg-type]


def run(profile: Profile, **kw: object) -> object:
    shape = cluster(
        prefill_instances=kw.pop("m", 1),
        decode_instances=kw.pop("n", 1),
        prefill_routing=kw.pop("routing", "random"),
    )
    return simulate(profile, config(shape, **kw))  # type: ignore[arg-type]


def test_exponential_isl_single_prefill_is_mm1() -> None:
    # ISL ~ Exp(mean 1000) -> service ~ Exp(mu = 10/s); lambda = 7/s, rho = 0.7.
    r = run(
        flat_profile(),
        rate_rps=7.0,
        isl=Exponential(mean_tokens=1000),
        osl=Fixed(tokens=2),
        requests=200_000,
        seed=1,
    )
    mean = mm1_mean_sojourn_s(7.0, 10.0)  # 1 / (10 - 7) = 0.333 s
    p90 = mm1_sojourn_quantile_s(7.0, 10.0, 0.9)
    # ISL is rounded up to whole tokens: service mean 0.10005 s; allow 3 %.
    assert r.ttft_s.mean == pytest.approx(mean, rel=0.03)  # type: ignore[attr-defined]
    assert r.ttft_s.p90 == pytest.approx(p90, rel=0.03)  # type: ignore[attr-defined]
    assert r.prefill_utilization[0] == pytest.approx(0.7, rel=0.02)  # type: ignore[attr-defined]


def test_fixed_isl_single_prefill_is_md1() -> None:
    r = run(
        flat_profile(),
        rate_rps=8.0,
        isl=Fixed(tokens=1000),
        osl=Fixed(tokens=2),
        requests=200_000,
        seed=2,
    )
    # S = 0.1 s, rho = 0.8: T = 0.1 + 0.8 * 0.1 / (2 * 0.2) = 0.3 s (M/M/1 would say 0.5 s)
    assert r.ttft_s.mean == pytest.approx(md1_mean_sojourn_s(8.0, 0.1), rel=0.03)  # type: ignore[attr-defined]


def test_shared_queue_is_mmc() -> None:
    # c = 4 servers, mu = 10/s each, lambda = 32/s (rho = 0.8): Erlang C.
    r = run(
        flat_profile(),
        m=4,
        routing="pooled",
        rate_rps=32.0,
        isl=Exponential(mean_tokens=1000),
        osl=Fixed(tokens=2),
        requests=200_000,
        seed=3,
    )
    assert r.ttft_s.mean == pytest.approx(mmc_mean_sojourn_s(32.0, 10.0, 4), rel=0.03)  # type: ignore[attr-defined]
    assert erlang_c(4, 3.2) == pytest.approx(0.5964, abs=1e-3)  # textbook value


def test_pooling_beats_independent_queues() -> None:
    kw = dict(
        m=4,
        rate_rps=32.0,
        isl=Exponential(mean_tokens=1000),
        osl=Fixed(tokens=2),
        requests=50_000,
        seed=4,
    )
    pooled = run(flat_profile(), routing="pooled", **kw)
    independent = run(flat_profile(), routing="random", **kw)
    assert pooled.ttft_s.mean < independent.ttft_s.mean  # type: ignore[attr-defined]
    # random routing splits Poisson traffic: each instance is M/M/1 at rho 0.8.
    assert independent.ttft_s.mean == pytest.approx(  # type: ignore[attr-defined]
        mm1_mean_sojourn_s(8.0, 10.0), rel=0.05
    )


def test_decode_occupancy_obeys_littles_law() -> None:
    # Decode never waits (huge max batch): mean batch = lambda * time in decode.
    r = simulate(
        flat_profile(tpot_ms=10.0),
        config(
            cluster=cluster(prefill_instances=4, decode_instances=2),
            rate_rps=20.0,
            isl=Fixed(tokens=100),
            osl=Exponential(mean_tokens=200),
            requests=100_000,
            seed=5,
        ),
        keep_records=True,
    )
    cols = r.records
    assert cols is not None
    in_decode = [d - f for d, f in zip(cols.done_s, cols.first_token_s, strict=True)]
    horizon = max(cols.done_s)
    littles = sum(in_decode) / horizon  # = lambda_effective * mean time in decode
    assert sum(r.decode_mean_batch) == pytest.approx(littles, rel=1e-6)
    # and it is lambda * (OSL - 1) * TPOT within sampling noise.
    assert sum(r.decode_mean_batch) == pytest.approx(20.0 * (200 - 0.5) * 0.010, rel=0.05)
    assert r.tpot_s.mean == pytest.approx(0.010, rel=1e-6)


def test_decode_batch_cap_and_kv_capacity_hold() -> None:
    profile = flat_profile(tpot_ms=10.0, max_batch=8)
    r = simulate(
        profile,
        config(
            cluster=cluster(prefill_instances=8, decode_instances=1, kv_capacity_tokens=5 * 1100),
            rate_rps=30.0,
            isl=Fixed(tokens=1000),
            osl=Fixed(tokens=100),
            requests=5_000,
            seed=6,
        ),
        SLO(ttft_s=1.0, tpot_s=0.011),
    )
    # KV fits 5 requests of 1100 tokens: the batch never exceeds 5; the rest wait, so TPOT
    # grows beyond 10 ms and attainment falls.
    assert r.decode_mean_batch[0] <= 5.0
    assert r.tpot_s.mean > 0.010
    assert r.tpot_attainment is not None and r.tpot_attainment < 0.5


def test_tpot_follows_the_measured_curve() -> None:
    # TPOT(b) = 10 ms at b = 1 rising to 20 ms at b = 11: a loaded decode runs slower.
    profile = parse_profile(
        {
            "schema_version": 1,
            "prefill": {
                "gpus_per_instance": 1,
                "overhead_s": 0.0,
                "max_throughput": [{"isl_tokens": 1000, "max_tps": 1e6}],
            },
            "decode": {
                "gpus_per_instance": 1,
                "curves": [
                    {
                        "isl_tokens": 100,
                        "osl_tokens": 100,
                        "points": [{"batch": 1, "tpot_ms": 10}, {"batch": 11, "tpot_ms": 20}],
                    }
                ],
            },
        }
    )
    light = simulate(
        profile,
        config(
            cluster=cluster(prefill_instances=1, decode_instances=1),
            rate_rps=0.02,
            isl=Fixed(tokens=100),
            osl=Fixed(tokens=100),
            requests=2_000,
            seed=7,
        ),
    )
    heavy = simulate(
        profile,
        config(
            cluster=cluster(prefill_instances=1, decode_instances=1),
            rate_rps=4.0,
            isl=Fixed(tokens=100),
            osl=Fixed(tokens=100),
            requests=20_000,
            seed=7,
        ),
    )
    assert light.tpot_s.mean == pytest.approx(0.010, rel=0.05)
    b = heavy.decode_mean_batch[0]
    assert 1 < b < 11
    assert 0.010 < heavy.tpot_s.mean < 0.020


def test_batched_prefill_shares_steps() -> None:
    cfg = dict(rate_rps=9.0, isl=Fixed(tokens=1000), osl=Fixed(tokens=2), requests=20_000, seed=8)
    one = simulate(
        flat_profile(),
        config(cluster=cluster(prefill_instances=1, decode_instances=1), **cfg),
        keep_records=True,
    )
    batched = simulate(
        flat_profile(),
        config(
            cluster=cluster(prefill_instances=1, decode_instances=1, prefill_budget_tokens=4000),
            **cfg,
        ),
        keep_records=True,
    )
    assert one.records is not None and batched.records is not None
    starts = batched.records.prefill_start_s
    assert len(set(starts)) < len(starts)  # several requests started in one step
    assert len(set(one.records.prefill_start_s)) == len(one.records.prefill_start_s)
    # Work is conserved: the busy share is the same.
    assert batched.prefill_utilization[0] == pytest.approx(one.prefill_utilization[0], rel=0.01)


def test_same_seed_same_result_and_seed_matters() -> None:
    cfg = config(
        cluster=cluster(prefill_instances=2, decode_instances=2),
        rate_rps=10.0,
        isl=Exponential(mean_tokens=800),
        osl=Exponential(mean_tokens=50),
        requests=5_000,
        seed=9,
    )
    a, b = simulate(flat_profile(), cfg), simulate(flat_profile(), cfg)
    assert a == b
    c = simulate(flat_profile(), cfg.model_copy(update={"seed": 10}))
    assert c.ttft_s.mean != a.ttft_s.mean


def test_throughput_matches_offered_load_when_stable() -> None:
    r = run(
        flat_profile(),
        m=2,
        n=1,
        rate_rps=10.0,
        isl=Fixed(tokens=1000),
        osl=Fixed(tokens=10),
        requests=50_000,
        seed=11,
    )
    assert r.throughput.rate_rps == pytest.approx(10.0, rel=0.03)  # type: ignore[attr-defined]
    assert r.throughput.total_tps == pytest.approx(10.0 * 1010, rel=0.03)  # type: ignore[attr-defined]
    assert not math.isnan(r.tpot_s.p99)  # type: ignore[attr-defined]
