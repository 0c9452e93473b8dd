"""What a simulation run delivered: latency distributions, SLO attainment and verdict,
throughput, load.

Per-request results are flat columns (``Columns``), so they go straight to CSV. Latencies are
in seconds; reports convert.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pdplan.quantiles import Distribution
from pdplan.schema.verdict import Verdict, judge
from pdplan.schema.workload import SLO

__all__ = ["Columns", "SimResult", "Throughput", "summarize_run"]

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

    def ttft_s(self, i: int) -> float:
        return self.first_token_s[i] - self.arrival_s[i]

    def tpot_s(self, i: int) -> float | None:
        """None below two output tokens (no time between tokens)."""
        if self.osl_tokens[i] < 2:
            return None
        return (self.done_s[i] - self.first_token_s[i]) / (self.osl_tokens[i] - 1)


class Throughput(BaseModel):
    model_config = _CONFIG
    total_tps: float = Field(description="input + output tokens/s completed (measured requests)")
    output_tps: float = Field(description="output tokens/s completed (measured requests)")
    rate_rps: float = Field(description="completion rate of the measured requests, req/s")


class SimResult(BaseModel):
    """The outcome of one simulated run (warm-up requests excluded)."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    requests_measured: int
    offered_rate_rps: float | None = Field(
        description="steady offered rate (None for a replayed trace, whose rate varies)"
    )
    arrival_rate_rps: float | None = Field(
        None,
        description="the rate at which the measured requests actually arrived (a finite run's "
        "draw of the offered rate); the keep-up check compares completions with it",
    )
    ttft_s: Distribution | None = Field(description="time to first token, seconds")
    tpot_s: Distribution | None = Field(
        description="time per output token, seconds (None if every request has one token)"
    )
    slo_attainment: float | None = Field(description="share meeting TTFT and TPOT SLOs")
    ttft_attainment: float | None
    tpot_attainment: float | None
    verdict: Verdict | None = Field(description="whether the SLO statistics are met")
    throughput: Throughput
    prefill_utilization: list[float] = Field(description="busy share per prefill instance")
    decode_mean_batch: list[float] = Field(description="time-average batch per decode instance")
    prefill_service_scv: float = Field(0.0, description="engine service-time SCV simulated")
    records: Columns | None = Field(None, exclude=True)

    @property
    def meets_slo(self) -> bool | None:
        return None if self.verdict is None else self.verdict.meets


def _attainment(
    ttft: list[float], tpot: list[float | None], slo: SLO | None
) -> tuple[float | None, float | None, float | None]:
    """Shares of requests meeting both SLOs, the TTFT SLO and the TPOT SLO (None without
    an SLO; the TPOT share is None when no request had two tokens: nothing to meet)."""
    if slo is None or not ttft:
        return None, None, None
    ok_ttft = [t <= slo.ttft_s for t in ttft]
    ok_tpot = [t is None or t <= slo.tpot_s for t in tpot]
    count = len(ok_ttft)
    tpot_ok = sum(ok_tpot) / count if any(t is not None for t in tpot) else None
    both = sum(a and b for a, b in zip(ok_ttft, ok_tpot, strict=True)) / count
    return both, sum(ok_ttft) / count, tpot_ok


def _throughput(c: Columns, idx: range) -> tuple[Throughput, float | None]:
    """Completion rate of the measured requests over the span of their completions (equal
    to the arrival rate when the cluster keeps up, below it when queues grow), and the
    measured requests' own arrival rate."""
    measured_done = [c.done_s[i] for i in idx]
    span = max(max(measured_done) - min(measured_done), 1e-12) if measured_done else 1e-12
    count = max(len(measured_done) - 1, 0)
    out_tokens = sum(c.osl_tokens[i] for i in idx) * count / max(len(measured_done), 1)
    all_tokens = out_tokens + sum(c.isl_tokens[i] for i in idx) * count / max(len(measured_done), 1)
    arrived = [c.arrival_s[i] for i in idx]
    arrival_span = max(arrived) - min(arrived) if len(arrived) > 1 else 0.0
    arrival_rps = (len(arrived) - 1) / arrival_span if arrival_span > 0 else None
    throughput = Throughput(
        total_tps=all_tokens / span, output_tps=out_tokens / span, rate_rps=count / span
    )
    return throughput, arrival_rps


def _check_complete(c: Columns) -> None:
    """Every request arrived, got its first token, then finished, in that order: a run that
    left one behind (a request no instance could take) must not be summarized as if it had
    finished at time 0 (negative TPOT, busy shares beyond 100 %)."""
    for i, (a, f, d) in enumerate(zip(c.arrival_s, c.first_token_s, c.done_s, strict=True)):
        if not a <= f <= d:
            raise RuntimeError(
                f"simulation left request {i} unfinished or out of order (arrival {a!r} s, "
                f"first token {f!r} s, done {d!r} s)"
            )


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
    offered_rps: float | None = None,
) -> SimResult:
    """Summarize one run's requests after the first ``warmup_share``: TTFT/TPOT
    distributions, throughput over the span of the completions, utilizations and the SLO
    verdict (:func:`pdplan.schema.verdict.judge`).

    >>> c = Columns([0.0, 1.0], [100, 100], [11, 11], [0.0, 1.0], [0.5, 1.5], [1.5, 2.5])
    >>> r = summarize_run(c, warmup_share=0.0, slo=None, prefill_busy_s=[1.0],
    ...                   decode_occupancy=[2.0], end_s=2.5, keep_records=False)
    >>> r.ttft_s.mean, r.tpot_s.mean, r.requests_measured
    (0.5, 0.1, 2)
    """
    c = columns
    _check_complete(c)
    n = len(c.arrival_s)
    start = min(int(n * warmup_share), max(n - 1, 0))
    idx = range(start, n)
    ttft = [c.ttft_s(i) for i in idx]
    tpot = [c.tpot_s(i) for i in idx]
    attain, ttft_ok, tpot_ok = _attainment(ttft, tpot, slo)
    throughput, arrival_rps = _throughput(c, idx)
    horizon = max(end_s, 1e-12)
    ttft_dist, tpot_dist = Distribution.of(ttft), Distribution.of(tpot)
    verdict = None
    if slo is not None:
        verdict = judge(
            ttft_dist,
            tpot_dist,
            slo,
            # the draw of arrivals, not the nominal rate: a short run's own arrival rate is
            # off the nominal by a few % (1/sqrt(n)), and its completions follow its arrivals
            offered_rps=arrival_rps if offered_rps is not None else None,
            completed_rps=throughput.rate_rps if offered_rps is not None else None,
        )
    return SimResult(
        requests_measured=len(idx),
        offered_rate_rps=offered_rps,
        arrival_rate_rps=arrival_rps,
        ttft_s=ttft_dist,
        tpot_s=tpot_dist,
        slo_attainment=attain,
        ttft_attainment=ttft_ok,
        tpot_attainment=tpot_ok,
        verdict=verdict,
        throughput=throughput,
        prefill_utilization=[b / horizon for b in prefill_busy_s],
        decode_mean_batch=[o / horizon for o in decode_occupancy],
        prefill_service_scv=prefill_service_scv,
        records=columns if keep_records else None,
    )
