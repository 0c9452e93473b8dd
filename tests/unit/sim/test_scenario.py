"""The planner and the simulator describe the same scenario: planned capacity of the planned
allocation against the simulator's, with prefix hits, attention-DP groups, percentiles,
length distributions, pooling, random decode routing and bursty arrivals. And gamma arrivals
against queueing theory (Ciw-style: long seeded runs against closed forms)."""

from __future__ import annotations

from typing import Any

import pytest

from pdplan import SLO, Gamma, Lognormal, Poisson, Profile, Workload, size
from pdplan.io import parse_profile
from pdplan.plan.rate import rate_allocation
from pdplan.plan.verify import cluster_for
from pdplan.sim import ClusterConfig, SimConfig, simulate
from pdplan.sim.capacity import max_rate


def profile(dp: int = 1, prefill_tps: float = 20_000, overhead_s: float = 0.05) -> Profile:
    points = [
        {"batch": b, "tpot_ms": 8 + 0.05 * b**1.3, "tpot_p90_ms": 8 + 0.05 * b**1.3}
        for b in (1, 2, 4, 8, 16, 32, 64, 128)
    ]
    return parse_profile(
        {
            "schema_version": 1,
            "prefill": {
                "gpus_per_instance": 1,
                "overhead_s": overhead_s,
                "dp_groups": dp,
                "max_throughput": [{"isl_tokens": 1000, "max_tps": prefill_tps}],
            },
            "decode": {
                "gpus_per_instance": 1,
                "curves": [{"isl_tokens": 1000, "osl_tokens": 100, "points": points}],
            },
        }
    )


def workload(**kw: Any) -> Workload:
    shape: dict[str, Any] = {"osl_tokens": 100, **kw}
    if "isl" not in shape:
        shape["isl_tokens"] = 1000
    return Workload.from_rps(rate_rps=50, **shape)


PREFILL_SLO = SLO(ttft_s=0.4, tpot_s=0.02)
FAST = profile(prefill_tps=1e7, overhead_s=0.0)
DECODE_SLO = SLO(ttft_s=5.0, tpot_s=0.0105)

CASES = {
    "prefix hits": (profile(), workload(prefix_hit_rate=0.5), SLO(ttft_s=0.2, tpot_s=0.02), {}),
    "dp groups": (profile(dp=2), workload(), PREFILL_SLO, {}),
    "p90": (profile(), workload(), SLO(ttft_s=0.4, tpot_s=0.02, ttft_stat="p90"), {}),
    "lognormal ISL": (
        profile(),
        workload(isl=Lognormal(mean_tokens=1000, sigma=0.8)),
        PREFILL_SLO,
        {"model": "queueing"},
    ),
    "gamma arrivals": (profile(), workload(arrivals=Gamma(scv=4)), PREFILL_SLO, {}),
    "pooled": (profile(), workload(), SLO(ttft_s=0.15, tpot_s=0.02), {"prefill_routing": "pooled"}),
    "decode, gamma arrivals": (FAST, workload(arrivals=Gamma(scv=4)), DECODE_SLO, {}),
    "decode, random routing": (
        FAST,
        workload(arrivals=Gamma(scv=4)),
        DECODE_SLO,
        {"decode_routing": "random"},
    ),
    "decode, p90": (FAST, workload(), SLO(ttft_s=5.0, tpot_s=0.011, tpot_stat="p90"), {}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_planned_capacity_is_the_simulated_one(name: str) -> None:
    prof, w, slo, kw = CASES[name]
    plan = size(prof, w, slo, **kw)
    m, n = plan.allocation.prefill_instances, plan.allocation.decode_instances
    planned = rate_allocation(prof, w, slo, m, n, **kw)
    simulated = max_rate(prof, cluster_for(plan, m, n), w, slo, requests=20_000)
    # measured when written: every case within 4 % (README, "Planning for real traffic")
    assert planned.max_total_tps == pytest.approx(simulated.max_total_tps, rel=0.05), name
    binding = {"prefill": "ttft", "decode": "tpot"}[planned.binding]
    assert simulated.binding in (binding, "throughput"), name


def test_verify_simulates_the_planned_scenario() -> None:
    # The example: prefix hits planned 2P4D 'meets' and verified as failing by +53 %.
    from pdplan import default_profile
    from pdplan.plan.verify import verify_plan

    w = Workload.from_tpm(isl_tokens=6144, osl_tokens=512, tpm=5e6, prefix_hit_rate=0.5)
    plan = size(default_profile(), w, SLO(ttft_s=2.0, tpot_s=0.020))
    rows = {r.allocation: r for r in verify_plan(default_profile(), plan, requests=5_000)}
    planned = rows[plan.allocation.name]
    assert planned.simulated_meets_target
    assert all(abs(r.error or 0) < 0.03 for r in rows.values())


def _flat() -> Profile:
    return parse_profile(
        {
            "schema_version": 1,
            "prefill": {
                "gpus_per_instance": 1,
                "overhead_s": 0.0,
                "max_throughput": [{"isl_tokens": 1000, "max_tps": 10_000}],
            },
            "decode": {
                "gpus_per_instance": 1,
                "curves": [
                    {
                        "isl_tokens": 1000,
                        "osl_tokens": 2,
                        "points": [{"batch": 1, "tpot_ms": 1}, {"batch": 4096, "tpot_ms": 1}],
                    }
                ],
            },
        }
    )


@pytest.mark.parametrize("scv", [0.25, 1.0, 4.0, 9.0])
def test_gamma_arrivals_against_kingman(scv: float) -> None:
    """G/D/1 at rho 0.8 (S = 0.1 s, 8 req/s): the simulated mean wait lies under Kingman's
    bound ``lambda (Var A + Var S) / (2 (1 - rho))`` and within 25 % of his heavy-traffic
    approximation ``rho / (1 - rho) * (ca2 + cs2) / 2 * S`` (measured: 0.78-1.24x)."""
    w = Workload.from_rps(rate_rps=8.0, isl_tokens=1000, osl_tokens=2, arrivals=Gamma(scv=scv))
    cluster = ClusterConfig(prefill_instances=1, decode_instances=1, prefill_service_scv=0.0)
    r = simulate(_flat(), SimConfig(cluster=cluster, workload=w, requests=200_000, seed=1))
    assert r.ttft_s is not None
    wait = r.ttft_s.mean - 0.1
    bound = 8.0 * (scv / 8.0**2) / (2 * 0.2)
    approx = 0.8 / 0.2 * scv / 2 * 0.1
    assert wait <= bound
    assert wait == pytest.approx(approx, rel=0.25)


def test_exponential_gaps_are_the_poisson_process() -> None:
    cluster = ClusterConfig(prefill_instances=2, decode_instances=1)
    runs = [
        simulate(
            _flat(),
            SimConfig(
                cluster=cluster,
                workload=Workload.from_rps(
                    rate_rps=12.0, isl_tokens=1000, osl_tokens=2, arrivals=arrivals
                ),
                requests=5_000,
                seed=3,
            ),
        )
        for arrivals in (Poisson(), Gamma(scv=1.0))
    ]
    assert runs[0] == runs[1]
