"""What a simulation run delivered: latency distributions, SLO attainment, throughput, load.

Per-request results are flat columns (``Columns``), so they go straight to CSV.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pdplan.models.workload import SLO
from pdplan.quantiles import percentiles_sorted
from pdplan.units import s_to_ms

__all__ = ["Columns", "Dist", "SimResult", "Throughput", "summarize_run"]

_CONFIG = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Columns:
    """Per-request simulation results, one list per field, indexed by request."""

    arrival_s: list[float]
    isl_tokens: list[int]
    osl_tokens: list[int]
    prefill_start_s: list[float]
    first_token_s: list[float]
    done_s: list[float]

    def rows(self) -> list[dict[str, Any]]:
        names = [f.name for f in fields(self)]
        cols = [getattr(self, name) for name in names]
        return [dict(zip(names, values, strict=True)) for values in zip(*cols, strict=True)]


class Dist(BaseModel):
    """Mean and percentiles of one latency, in the unit its name carries."""

    model_config = _CONFIG
    mean: float
    p50: float
    p90: float
    p99: float

    @classmethod
    def of(cls, values: list[float]) -> Dist:
        ordered = sorted(values)
        if not ordered:
            nan = float("nan")
            return cls(mean=nan, p50=nan, p90=nan, p99=nan)
        p50, p90, p99 = percentiles_sorted(ordered, [50, 90, 99])
        return cls(mean=sum(ordered) / len(ordered), p50=p50, p90=p90, p99=p99)

    def stat(self, name: str) -> float:
        """``mean``, ``p50``, ``p90`` or ``p99``."""
        return float(getattr(self, name))


class Throughput(BaseModel):
    model_config = _CONFIG
    total_tps: float = Field(description="input + output tokens/s completed (measured requests)")
    output_tps: float = Field(description="output tokens/s completed (measured requests)")
    rate_rps: float = Field(description="completion rate of the measured requests, req/s")


class SimResult(BaseModel):
    """The outcome of one simulated run (warm-up requests excluded)."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    requests_measured: int
    ttft_s: Dist
    tpot_ms: Dist
    slo_attainment: float | None = Field(description="share meeting TTFT and TPOT SLOs")
    ttft_attainment: float | None
    tpot_attainment: float | None
    throughput: Throughput
    prefill_utilization: list[float] = Field(description="busy share per prefill instance")
    decode_mean_batch: list[float] = Field(description="time-average batch per decode instance")
    prefill_service_scv: float = Field(0.0, description="engine service-time SCV simulated")
    records: Columns | None = Field(None, exclude=True)


def summarize_run(
    columns: Columns,
    *,
    warmup_share: float,
    slo: SLO | None,
    prefill_busy_s: list[float],
    decode_occupancy: list[float],
    end_s: float,
    keep_records: bool,
    prefill_service_scv: float = 0.0,
) -> SimResult:
    c = columns
    n = len(c.arrival_s)
    start = min(int(n * warmup_share), max(n - 1, 0))
    idx = range(start, n)
    ttft = [c.first_token_s[i] - c.arrival_s[i] for i in idx]
    tpot_s = {
        i: (c.done_s[i] - c.first_token_s[i]) / (c.osl_tokens[i] - 1)
        for i in idx
        if c.osl_tokens[i] > 1
    }
    attain = ttft_ok = tpot_ok = None
    if slo is not None and n:
        ok_ttft = [c.first_token_s[i] - c.arrival_s[i] <= slo.ttft_s for i in idx]
        ok_tpot = [tpot_s.get(i, 0.0) <= slo.tpot_s for i in idx]
        count = len(ok_ttft)
        ttft_ok = sum(ok_ttft) / count
        tpot_ok = sum(ok_tpot) / count
        attain = sum(a and b for a, b in zip(ok_ttft, ok_tpot, strict=True)) / count
    # Completion rate of the measured requests over the span of their completions: equals
    # the arrival rate when the cluster keeps up, and falls below it when queues grow.
    measured_done = [c.done_s[i] for i in idx]
    span = max(max(measured_done) - min(measured_done), 1e-12) if measured_done else 1e-12
    count = max(len(measured_done) - 1, 0)
    out_tokens = sum(c.osl_tokens[i] for i in idx) * count / max(len(measured_done), 1)
    all_tokens = out_tokens + sum(c.isl_tokens[i] for i in idx) * count / max(len(measured_done), 1)
    horizon = max(end_s, 1e-12)
    return SimResult(
        requests_measured=len(idx),
        ttft_s=Dist.of(ttft),
        tpot_ms=Dist.of([s_to_ms(v) for v in tpot_s.values()]),
        slo_attainment=attain,
        ttft_attainment=ttft_ok,
        tpot_attainment=tpot_ok,
        throughput=Throughput(
            total_tps=all_tokens / span,
            output_tps=out_tokens / span,
            rate_rps=count / span,
        ),
        prefill_utilization=[b / horizon for b in prefill_busy_s],
        decode_mean_batch=[o / horizon for o in decode_occupancy],
        prefill_service_scv=prefill_service_scv,
        records=columns if keep_records else None,
    )
