"""Load sweeps of several allocations: TTFT and TPOT against total throughput (Figure 3)."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

from pdplan.errors import ConfigError
from pdplan.models.profile import Profile
from pdplan.models.workload import SLO
from pdplan.sim.capacity import upper_bound_rps
from pdplan.sim.cluster import simulate
from pdplan.sim.config import ClusterConfig, SimConfig
from pdplan.sim.lengths import LengthDist

__all__ = ["SweepPoint", "parse_allocations", "sweep_load", "sweep_rates"]

_ALLOC = re.compile(r"^\s*(\d+)\s*P\s*(\d+)\s*D\s*$", re.IGNORECASE)


class SweepPoint(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    allocation: str
    offered_total_tps: float
    total_tps: float
    ttft_mean_s: float
    ttft_p90_s: float
    tpot_mean_ms: float
    tpot_p90_ms: float
    slo_attainment: float | None


def parse_allocations(text: str) -> list[tuple[int, int]]:
    """``3P4D,3P3D`` -> [(3, 4), (3, 3)].

    >>> parse_allocations("3P4D, 2p1d")
    [(3, 4), (2, 1)]
    """
    out = []
    for item in text.split(","):
        match = _ALLOC.match(item)
        if match is None or min(int(match.group(1)), int(match.group(2))) < 1:
            raise ConfigError(f"--sweep: cannot read {item.strip()!r}; expected e.g. 3P4D,3P3D")
        out.append((int(match.group(1)), int(match.group(2))))
    return out


def sweep_load(
    profile: Profile,
    allocations: list[tuple[int, int]],
    isl: LengthDist,
    osl: LengthDist,
    slo: SLO,
    *,
    base: ClusterConfig,
    points: int = 12,
    requests: int = 20_000,
    seed: int = 42,
) -> list[SweepPoint]:
    """Each allocation from 30 % to 115 % of the largest allocation's saturated rate."""
    clusters = [
        base.model_copy(update={"prefill_instances": m, "decode_instances": n})
        for m, n in allocations
    ]
    top = max(upper_bound_rps(profile, c, isl, osl) for c in clusters)
    rates = [top * (0.3 + 0.85 * k / (points - 1)) for k in range(points)]
    return [
        point
        for cluster in clusters
        for point in sweep_rates(profile, cluster, rates, isl, osl, slo, requests, seed)
    ]


def sweep_rates(
    profile: Profile,
    cluster: ClusterConfig,
    rates_rps: list[float],
    isl: LengthDist,
    osl: LengthDist,
    slo: SLO,
    requests: int = 20_000,
    seed: int = 42,
) -> list[SweepPoint]:
    """One allocation simulated at each of the given Poisson rates."""
    tokens = isl.mean_tokens + osl.mean_tokens
    rows = []
    for rate in rates_rps:
        config = SimConfig(
            cluster=cluster, rate_rps=rate, isl=isl, osl=osl, requests=requests, seed=seed
        )
        r = simulate(profile, config, slo)
        rows.append(
            SweepPoint(
                allocation=f"{cluster.prefill_instances}P{cluster.decode_instances}D",
                offered_total_tps=rate * tokens,
                total_tps=r.throughput.total_tps,
                ttft_mean_s=r.ttft_s.mean,
                ttft_p90_s=r.ttft_s.p90,
                tpot_mean_ms=r.tpot_ms.mean,
                tpot_p90_ms=r.tpot_ms.p90,
                slo_attainment=r.slo_attainment,
            )
        )
    return rows
