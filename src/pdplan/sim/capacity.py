"""The largest load an allocation sustains with the SLOs met, by simulation (bisection).

Every probe uses the same seed (common random numbers), so the SLO statistic is a smooth,
nearly monotone function of the rate and bisection converges. A rate counts as sustained when
the chosen statistic (mean, as in the paper, or p50/p90/p99) of TTFT and of TPOT meets the SLO
and the cluster keeps up (completed throughput >= 97 % of offered).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pdplan.models.profile import Profile
from pdplan.models.workload import SLO
from pdplan.quantiles import Stat
from pdplan.sim.cluster import simulate
from pdplan.sim.config import ClusterConfig, SimConfig
from pdplan.sim.lengths import LengthDist
from pdplan.sim.metrics import SimResult
from pdplan.sim.service import ServiceModel
from pdplan.units import s_to_ms

__all__ = ["CapacityResult", "Stat", "max_rate", "meets", "upper_bound_rps"]

_KEEP_UP = 0.97


class CapacityResult(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    prefill_instances: int
    decode_instances: int
    stat: Stat
    max_rate_rps: float = Field(description="largest Poisson rate meeting the SLOs")
    max_total_tps: float = Field(description="max_rate_rps * mean (ISL + OSL)")
    binding: Literal["ttft", "tpot", "throughput", "none"] = Field(
        description="what fails just above the capacity"
    )
    at_capacity: SimResult = Field(description="the run at max_rate_rps")


def meets(result: SimResult, slo: SLO, stat: Stat, offered_rps: float) -> str | None:
    """None if the run meets the SLOs, else what failed: ``ttft``, ``tpot`` or ``throughput``."""
    if result.throughput.rate_rps < _KEEP_UP * offered_rps:
        return "throughput"
    if result.ttft_s.stat(stat) > slo.ttft_s:
        return "ttft"
    if result.tpot_ms.stat(stat) > s_to_ms(slo.tpot_s):
        return "tpot"
    return None


def upper_bound_rps(
    profile: Profile, cluster: ClusterConfig, isl: LengthDist, osl: LengthDist
) -> float:
    """No allocation carries more than its saturated prefill or decode rate."""
    mean_isl, mean_osl = isl.mean_tokens, osl.mean_tokens
    service = ServiceModel.from_profile(
        profile, mean_isl, mean_osl, cluster.decode_max_batch, cluster.kv_capacity_tokens
    )
    prefill_rps = cluster.prefill_instances / service.prefill_time_s(round(mean_isl))
    b = service.max_batch
    decode_rps = cluster.decode_instances * b / service.tpot_by_batch_s[b] / max(mean_osl - 1, 1)
    return min(prefill_rps, decode_rps)


def max_rate(
    profile: Profile,
    cluster: ClusterConfig,
    isl: LengthDist,
    osl: LengthDist,
    slo: SLO,
    *,
    stat: Stat = "mean",
    requests: int = 20_000,
    seed: int = 42,
    rel_tol: float = 0.005,
) -> CapacityResult:
    """Bisection on the Poisson rate for the largest one that meets the SLOs."""

    def run(rate: float) -> SimResult:
        config = SimConfig(
            cluster=cluster, rate_rps=rate, isl=isl, osl=osl, requests=requests, seed=seed
        )
        return simulate(profile, config, slo)

    hi = upper_bound_rps(profile, cluster, isl, osl) * 1.02
    probe = hi * 0.01
    first = run(probe)
    failure = meets(first, slo, stat, probe)
    if failure is not None:  # not even 1 % of the bound: the SLO is out of reach
        return _result(cluster, stat, 0.0, failure, first, isl, osl)
    lo, lo_result = probe, first
    binding = "none"
    while hi - lo > rel_tol * hi:
        mid = (lo + hi) / 2
        result = run(mid)
        failure = meets(result, slo, stat, mid)
        if failure is None:
            lo, lo_result = mid, result
        else:
            hi, binding = mid, failure
    return _result(cluster, stat, lo, binding, lo_result, isl, osl)


def _result(
    cluster: ClusterConfig,
    stat: Stat,
    rate: float,
    binding: str,
    at: SimResult,
    isl: LengthDist,
    osl: LengthDist,
) -> CapacityResult:
    return CapacityResult(
        prefill_instances=cluster.prefill_instances,
        decode_instances=cluster.decode_instances,
        stat=stat,
        max_rate_rps=rate,
        max_total_tps=rate * (isl.mean_tokens + osl.mean_tokens),
        binding=binding,
        at_capacity=at,
    )
