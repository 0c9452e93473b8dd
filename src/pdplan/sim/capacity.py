"""The largest load an allocation sustains with the SLOs met, by simulation (bisection).

The load is the workload's own traffic scaled in rate: more arrivals of its process, or its
trace replayed faster. Every probe uses the same seed (common random numbers), so the SLO
statistic is a smooth, nearly monotone function of the rate and bisection converges. A rate
counts as sustained when the run's verdict (:func:`pdplan.verdict.judge`: the SLO's TTFT and
TPOT statistics, and keeping up with a steady offered rate) says so.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pdplan.models.profile import Profile
from pdplan.models.workload import SLO, Workload
from pdplan.service_time import prefill_service
from pdplan.sim.cluster import simulate
from pdplan.sim.config import ClusterConfig, SimConfig
from pdplan.sim.metrics import SimResult
from pdplan.sim.service import ServiceModel

__all__ = ["CapacityResult", "max_rate", "upper_bound_rps"]


class CapacityResult(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    prefill_instances: int
    decode_instances: int
    max_rate_rps: float = Field(description="largest mean request rate meeting the SLOs")
    max_total_tps: float = Field(description="max_rate_rps * mean (ISL + OSL)")
    binding: Literal["ttft", "tpot", "throughput", "none"] = Field(
        description="what fails just above the capacity"
    )
    at_capacity: SimResult = Field(description="the run at max_rate_rps")


def upper_bound_rps(profile: Profile, cluster: ClusterConfig, workload: Workload) -> float:
    """No allocation carries more than its saturated prefill or decode rate."""
    service = ServiceModel.from_profile(
        profile,
        workload.isl_tokens,
        workload.osl_tokens,
        cluster.decode_max_batch,
        cluster.kv_capacity_tokens,
    )
    prefill_s = prefill_service(profile.prefill, workload.isl, workload.prefix_hit_rate).mean_s
    prefill_rps = cluster.prefill_instances * profile.prefill.dp_groups / prefill_s
    b = service.max_batch
    mean_osl = workload.osl_tokens
    decode_rps = cluster.decode_instances * b / service.tpot_by_batch_s[b] / max(mean_osl - 1, 1)
    return min(prefill_rps, decode_rps)


def max_rate(
    profile: Profile,
    cluster: ClusterConfig,
    workload: Workload,
    slo: SLO,
    *,
    requests: int = 20_000,
    seed: int = 42,
    rel_tol: float = 0.005,
) -> CapacityResult:
    """Bisection on the workload's mean rate for the largest one that meets the SLOs."""

    def run(rate: float) -> SimResult:
        config = SimConfig(
            cluster=cluster, workload=workload.with_rate(rate), requests=requests, seed=seed
        )
        return simulate(profile, config, slo)

    def failure(result: SimResult) -> str | None:
        assert result.verdict is not None
        return result.verdict.failure

    hi = upper_bound_rps(profile, cluster, workload) * 1.02
    probe = hi * 0.01
    first = run(probe)
    failed = failure(first)
    if failed is not None:  # not even 1 % of the bound: the SLO is out of reach
        return _result(cluster, 0.0, failed, first, workload)
    lo, lo_result = probe, first
    binding = "none"
    while hi - lo > rel_tol * hi:
        mid = (lo + hi) / 2
        result = run(mid)
        failed = failure(result)
        if failed is None:
            lo, lo_result = mid, result
        else:
            hi, binding = mid, failed
    return _result(cluster, lo, binding, lo_result, workload)


def _result(
    cluster: ClusterConfig, rate: float, binding: str, at: SimResult, workload: Workload
) -> CapacityResult:
    return CapacityResult(
        prefill_instances=cluster.prefill_instances,
        decode_instances=cluster.decode_instances,
        max_rate_rps=rate,
        max_total_tps=rate * workload.tokens_per_request,
        binding=binding,
        at_capacity=at,
    )
