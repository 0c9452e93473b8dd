"""The largest load an allocation sustains with the SLOs met, by simulation (bisection).

The load is the workload's own traffic scaled in rate: more arrivals of its process, or its
trace replayed faster. Every probe uses the same seed (common random numbers), so the SLO
statistic is a smooth, nearly monotone function of the rate and bisection converges. A rate
counts as sustained when the run's verdict (:func:`pdplan.schema.verdict.judge`: the SLO's TTFT and
TPOT statistics, and keeping up with a steady offered rate) says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from pdplan.engine.service_time import prefill_service
from pdplan.errors import ConfigError, InfeasibleSLOError, PdplanError
from pdplan.quantiles import mean_interval
from pdplan.schema.profile import Profile
from pdplan.schema.workload import SLO, Workload
from pdplan.sim.cluster import simulate
from pdplan.sim.config import ClusterConfig, SimConfig
from pdplan.sim.metrics import SimResult
from pdplan.sim.service import ServiceModel
from pdplan.units import fmt_seconds

__all__ = ["CapacityResult", "MapFn", "max_rate", "upper_bound_rps"]


class CapacityResult(BaseModel):
    """The largest load an allocation sustains, over independent replications (seeds), with
    its confidence interval: a finite run's verdict moves with the seed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prefill_instances: int
    decode_instances: int
    max_rate_rps: float = Field(description="largest mean request rate meeting the SLOs (mean)")
    max_rate_low_rps: float = Field(description="low end of its confidence interval")
    max_rate_high_rps: float = Field(description="high end of its confidence interval")
    max_total_tps: float = Field(description="max_rate_rps * mean (ISL + OSL)")
    max_total_low_tps: float
    max_total_high_tps: float
    confidence: float = Field(description="confidence of the interval, e.g. 0.9")
    replications: int = Field(description="independent runs (seeds) behind the interval")
    per_seed_max_rate_rps: list[float] = Field(description="each replication's answer")
    requests: int = Field(description="requests per simulated run (a replay: the trace's)")
    binding: Literal["ttft", "tpot", "throughput", "none"] = Field(
        description="what fails just above the capacity (first replication)"
    )
    at_capacity: SimResult = Field(description="the first replication's run at its capacity")


def upper_bound_rps(profile: Profile, cluster: ClusterConfig, workload: Workload) -> float:
    """No allocation carries more than its saturated prefill or decode rate.

    >>> from pdplan import Workload, default_profile
    >>> w = Workload.from_rps(isl_tokens=6144, osl_tokens=512, rate_rps=1.0)
    >>> c = ClusterConfig(prefill_instances=2, decode_instances=3)
    >>> round(upper_bound_rps(default_profile(), c, w), 3)  # 2 x 28309 / 6144
    9.215
    """
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


_STAT_NAMES = {"ttft": "TTFT", "tpot": "TPOT"}
#: A ``map``: the builtin (serial), or one over worker processes (:mod:`pdplan.parallel`).
MapFn = Callable[[Callable[[Any], Any], Iterable[Any]], Iterable[Any]]


@dataclass(frozen=True)
class _Runs:
    """One scenario at any mean rate and seed."""

    profile: Profile
    cluster: ClusterConfig
    workload: Workload
    slo: SLO
    requests: int

    def run(self, rate_rps: float, seed: int) -> SimResult:
        config = SimConfig(
            cluster=self.cluster,
            workload=self.workload.with_rate(rate_rps),
            requests=self.requests,
            seed=seed,
        )
        return simulate(self.profile, config, self.slo)


def _failure(result: SimResult) -> str | None:
    assert result.verdict is not None
    return result.verdict.failure


def max_rate(
    profile: Profile,
    cluster: ClusterConfig,
    workload: Workload,
    slo: SLO,
    *,
    requests: int = 20_000,
    seed: int = 42,
    rel_tol: float = 0.005,
    replications: int = 5,
    confidence: float = 0.9,
    map_fn: MapFn = map,
) -> CapacityResult:
    """Bisection on the workload's mean rate for the largest one that meets the SLOs, once
    per replication (seeds ``seed``, ``seed + 1``, ...); the answer is their mean with a
    Student-t interval. The first replication brackets the search for the others, which
    ``map_fn`` runs (:func:`pdplan.parallel.process_map`: in parallel).

    :raises InfeasibleSLOError: when even 1 % of the allocation's saturated rate misses an
        SLO (the error says the statistic reached there)

    >>> from pdplan import SLO, Workload, default_profile
    >>> w = Workload.from_rps(isl_tokens=6144, osl_tokens=512, rate_rps=1.0)
    >>> c = ClusterConfig(prefill_instances=1, decode_instances=1)
    >>> r = max_rate(default_profile(), c, w, SLO(ttft_s=2, tpot_s=0.02), requests=2000,
    ...              replications=2)
    >>> 0 < r.max_rate_low_rps <= r.max_rate_rps <= r.max_rate_high_rps < 4.61  # 28309 / 6144
    True
    """
    if replications < 1:
        raise ValueError(f"replications must be >= 1, got {replications}")
    runs = _Runs(profile, cluster, workload, slo, requests)
    bound = upper_bound_rps(profile, cluster, workload) * 1.02
    floor = bound * 0.01
    first = runs.run(floor, seed)
    failed = _failure(first)
    if failed is not None:
        raise _unreachable(cluster, slo, failed, first, floor)
    found, at_capacity, binding = _bisect(runs, floor, first, bound, seed, rel_tol)
    others = partial(_replicate, runs, found, floor, bound, rel_tol)
    answers = [found, *map_fn(others, range(seed + 1, seed + replications))]
    interval = mean_interval(answers, confidence)
    low, tokens = max(interval.low, 0.0), workload.tokens_per_request
    return CapacityResult(
        prefill_instances=cluster.prefill_instances,
        decode_instances=cluster.decode_instances,
        max_rate_rps=interval.mean,
        max_rate_low_rps=low,
        max_rate_high_rps=interval.high,
        max_total_tps=interval.mean * tokens,
        max_total_low_tps=low * tokens,
        max_total_high_tps=interval.high * tokens,
        confidence=confidence,
        replications=replications,
        per_seed_max_rate_rps=answers,
        requests=first.requests_measured if workload.replays_trace else requests,
        binding=binding,
        at_capacity=at_capacity,
    )


def _replicate(
    runs: _Runs, guess: float, floor: float, bound: float, rel_tol: float, seed: int
) -> float:
    """One more replication's capacity, searched around another seed's answer."""
    lo, lo_result, hi = _bracket(runs, guess, floor, bound, seed)
    return _bisect(runs, lo, lo_result, hi, seed, rel_tol)[0]


def _bracket(
    runs: _Runs, guess: float, floor: float, bound: float, seed: int
) -> tuple[float, SimResult, float]:
    """A passing low end and a failing (or bounding) high end around another seed's answer."""
    lo = max(guess * 0.8, floor)
    lo_result = runs.run(lo, seed)
    while _failure(lo_result) is not None and lo > floor:
        lo = max(lo * 0.7, floor)
        lo_result = runs.run(lo, seed)
    hi = min(guess * 1.25, bound)
    while hi < bound and _failure(runs.run(hi, seed)) is None:
        hi = min(hi * 1.25, bound)
    return lo, lo_result, hi


def _bisect(
    runs: _Runs, lo: float, lo_result: SimResult, hi: float, seed: int, rel_tol: float
) -> tuple[float, SimResult, str]:
    """(largest passing rate, its run, what fails just above) between a passing ``lo`` and
    ``hi``. Every probe of one replication uses its seed (common random numbers), so the
    verdict is a nearly monotone function of the rate."""
    binding = "none"
    while hi - lo > rel_tol * hi:
        mid = (lo + hi) / 2
        result = runs.run(mid, seed)
        failed = _failure(result)
        if failed is None:
            lo, lo_result = mid, result
        else:
            hi, binding = mid, failed
    return lo, lo_result, binding


def _unreachable(
    cluster: ClusterConfig, slo: SLO, failed: str, result: SimResult, rate: float
) -> PdplanError:
    verdict = result.verdict
    assert verdict is not None
    if failed in _STAT_NAMES:
        stat = slo.ttft_stat if failed == "ttft" else slo.tpot_stat
        objective = slo.ttft_s if failed == "ttft" else slo.tpot_s
        reached = verdict.ttft_s if failed == "ttft" else verdict.tpot_s
        assert reached is not None
        return InfeasibleSLOError(
            f"{stat} {_STAT_NAMES[failed]} SLO {fmt_seconds(objective)} cannot be met by "
            f"{cluster.name} at any load: at 1 % of its saturated rate ({rate:.4g} req/s) the "
            f"simulated {stat} {_STAT_NAMES[failed]} is {fmt_seconds(reached)}; set the SLO "
            f"above {fmt_seconds(reached)} (or give a faster profile)",
            field=failed,
            achievable=reached,
        )
    return ConfigError(
        f"{cluster.name}: a run at 1 % of its saturated rate ({rate:.4g} req/s) already fails "
        f"({failed}); give more --requests so that the run can tell"
    )
