"""Load sweeps of several allocations: TTFT and TPOT against total throughput (Figure 3)."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

from pdplan.errors import ConfigError
from pdplan.schema.profile import Profile
from pdplan.schema.workload import SLO, Workload
from pdplan.sim.capacity import upper_bound_rps
from pdplan.sim.cluster import simulate
from pdplan.sim.config import MAX_SIM_INSTANCES, ClusterConfig, SimConfig

__all__ = ["SweepPoint", "parse_allocations", "sweep_load", "sweep_rates"]

_ALLOC = re.compile(r"\s*(\d+)\s*P\s*(\d+)\s*D\s*", re.IGNORECASE)


class SweepPoint(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    allocation: str
    offered_total_tps: float
    total_tps: float
    ttft_mean_s: float | None
    ttft_p90_s: float | None
    tpot_mean_s: float | None
    tpot_p90_s: float | None
    slo_attainment: float | None
    meets_slo: bool | None = (
        None  # the one verdict (pdplan.schema.verdict.judge); None without SLOs
    )


#: The most allocations one sweep simulates (each is 12 simulations; a plot holds a few).
MAX_SWEEP_ALLOCATIONS = 12


def parse_allocations(text: str) -> list[tuple[int, int]]:
    """``3P4D,3P3D`` -> [(3, 4), (3, 3)].

    >>> parse_allocations("3P4D, 2p1d")
    [(3, 4), (2, 1)]
    """
    out = []
    for item in text.split(","):
        match = _ALLOC.fullmatch(item)
        if match is None or min(int(match.group(1)), int(match.group(2))) < 1:
            raise ConfigError(
                f"--sweep-allocations: cannot read {item.strip()!r}; expected e.g. 3P4D,3P3D"
            )
        m, n = int(match.group(1)), int(match.group(2))
        if max(m, n) > MAX_SIM_INSTANCES:
            raise ConfigError(
                f"--sweep-allocations: {item.strip()!r}: a simulation takes at most "
                f"{MAX_SIM_INSTANCES:,} instances per phase"
            )
        out.append((m, n))
    if len(out) > MAX_SWEEP_ALLOCATIONS:
        raise ConfigError(
            f"--sweep-allocations: {len(out)} allocations; a sweep draws at most "
            f"{MAX_SWEEP_ALLOCATIONS}"
        )
    return out


def sweep_load(
    profile: Profile,
    allocations: list[tuple[int, int]],
    workload: Workload,
    slo: SLO,
    *,
    base: ClusterConfig,
    points: int = 12,
    requests: int = 20_000,
    seed: int = 42,
) -> list[SweepPoint]:
    """Each allocation from 30 % to 115 % of the largest allocation's saturated rate.

    >>> from pdplan import SLO, Workload, default_profile
    >>> w = Workload.from_rps(isl_tokens=6144, osl_tokens=512, rate_rps=1.0)
    >>> base = ClusterConfig(prefill_instances=1, decode_instances=1)
    >>> pts = sweep_load(default_profile(), [(1, 1)], w, SLO(ttft_s=2, tpot_s=0.02),
    ...                  base=base, points=3, requests=500)
    >>> [round(p.offered_total_tps / 1e3, 1) for p in pts]  # 30 %, 72.5 %, 115 % of 29.8 k
    [8.9, 21.6, 34.3]
    """
    clusters = [
        base.model_copy(update={"prefill_instances": m, "decode_instances": n})
        for m, n in allocations
    ]
    top = max(upper_bound_rps(profile, c, workload) for c in clusters)
    rates = [top * (0.3 + 0.85 * k / (points - 1)) for k in range(points)]
    return [
        point
        for cluster in clusters
        for point in sweep_rates(profile, cluster, rates, workload, slo, requests, seed)
    ]


def sweep_rates(
    profile: Profile,
    cluster: ClusterConfig,
    rates_rps: list[float],
    workload: Workload,
    slo: SLO,
    requests: int = 20_000,
    seed: int = 42,
) -> list[SweepPoint]:
    """One allocation simulated with the workload at each of the given mean rates.

    >>> from pdplan import SLO, Workload, default_profile
    >>> w = Workload.from_rps(isl_tokens=6144, osl_tokens=512, rate_rps=1.0)
    >>> c = ClusterConfig(prefill_instances=1, decode_instances=1)
    >>> pts = sweep_rates(default_profile(), c, [0.5, 2.0], w, SLO(ttft_s=2, tpot_s=0.02), 500)
    >>> pts[0].ttft_mean_s < pts[1].ttft_mean_s  # more load, more queueing
    True
    """
    rows = []
    for rate in rates_rps:
        config = SimConfig(
            cluster=cluster, workload=workload.with_rate(rate), requests=requests, seed=seed
        )
        r = simulate(profile, config, slo)
        rows.append(
            SweepPoint(
                allocation=cluster.name,
                offered_total_tps=rate * workload.tokens_per_request,
                total_tps=r.throughput.total_tps,
                ttft_mean_s=r.ttft_s and r.ttft_s.mean,
                ttft_p90_s=r.ttft_s and r.ttft_s.p90,
                tpot_mean_s=r.tpot_s and r.tpot_s.mean,
                tpot_p90_s=r.tpot_s and r.tpot_s.p90,
                slo_attainment=r.slo_attainment,
                meets_slo=None if r.verdict is None else r.verdict.meets,
            )
        )
    return rows
