"""What a simulation run delivered: latency distributions, SLO attainment and verdict,
throughput, load.

Per-request results are flat columns (``Columns``), so they go straight to CSV. Latencies are
in seconds; reports convert.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from pdplan.quantiles import Distribution
from pdplan.schema.verdict import Verdict, judge
from pdplan.schema.workload import SLO

__all__ = ["Columns", "Latency", "SimResult", "Throughput", "judge_requests", "summarize_run"]

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

    def latency_s(self) -> tuple[np.ndarray, np.ndarray]:
        """Every request's TTFT and TPOT, seconds (TPOT NaN below two output tokens)."""
        return _Arrays.of(self).latency_s()


Latency = tuple[np.ndarray, np.ndarray]


def judge_requests(latency: Latency, members: Sequence[int], slo: SLO) -> Verdict:
    """The SLO verdict on the requests ``members`` (an SLO window) of a run whose
    :meth:`Columns.latency_s` is ``latency``."""
    idx = np.asarray(members, dtype=np.int64)
    return judge(Distribution.of(latency[0][idx]), Distribution.of(latency[1][idx]), slo)


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
    ttft: np.ndarray, tpot: np.ndarray, slo: SLO | None
) -> tuple[float | None, float | None, float | None]:
    """Shares of requests meeting both SLOs, the TTFT SLO and the TPOT SLO (None without
    an SLO; the TPOT share is None when no request had two tokens (NaN): nothing to meet)."""
    if slo is None or not ttft.size:
        return None, None, None
    ok_ttft = ttft <= slo.ttft_s
    no_tpot = np.isnan(tpot)
    ok_tpot = no_tpot | (tpot <= slo.tpot_s)
    count = ttft.size
    tpot_ok = int(ok_tpot.sum()) / count if not no_tpot.all() else None
    both = int((ok_ttft & ok_tpot).sum()) / count
    return both, int(ok_ttft.sum()) / count, tpot_ok


def _throughput(c: _Arrays, start: int) -> tuple[Throughput, float | None]:
    """Completion rate of the measured requests (from ``start`` on) over the span of their
    completions (equal to the arrival rate when the cluster keeps up, below it when queues
    grow), and the measured requests' own arrival rate."""
    done = c.done_s[start:]
    n = done.size
    span = max(float(done.max() - done.min()), 1e-12) if n else 1e-12
    count = max(n - 1, 0)
    out_tokens = int(c.osl_tokens[start:].sum()) * count / max(n, 1)
    all_tokens = out_tokens + int(c.isl_tokens[start:].sum()) * count / max(n, 1)
    arrived = c.arrival_s[start:]
    arrival_span = float(arrived.max() - arrived.min()) if n > 1 else 0.0
    arrival_rps = (n - 1) / arrival_span if arrival_span > 0 else None
    throughput = Throughput(
        total_tps=all_tokens / span, output_tps=out_tokens / span, rate_rps=count / span
    )
    return throughput, arrival_rps


@dataclass(frozen=True)
class _Arrays:
    """The columns as numpy arrays (a run's summary is vector work)."""

    arrival_s: np.ndarray
    isl_tokens: np.ndarray
    osl_tokens: np.ndarray
    first_token_s: np.ndarray
    done_s: np.ndarray

    @classmethod
    def of(cls, c: Columns) -> _Arrays:
        return cls(
            np.asarray(c.arrival_s, dtype=float),
            np.asarray(c.isl_tokens, dtype=np.int64),
            np.asarray(c.osl_tokens, dtype=np.int64),
            np.asarray(c.first_token_s, dtype=float),
            np.asarray(c.done_s, dtype=float),
        )

    def latency_s(self) -> Latency:
        """TTFT and TPOT per request: the one definition of both."""
        ttft = self.first_token_s - self.arrival_s
        osl = self.osl_tokens
        with np.errstate(divide="ignore", invalid="ignore"):  # one token: no TPOT (NaN)
            tpot = np.where(osl >= 2, (self.done_s - self.first_token_s) / (osl - 1), np.nan)
        return ttft, tpot


def _check_complete(c: _Arrays) -> None:
    """Every request arrived, got its first token, then finished, in that order: a run that
    left one behind (a request no instance could take) must not be summarized as if it had
    finished at time 0 (negative TPOT, busy shares beyond 100 %)."""
    a, f, d = c.arrival_s, c.first_token_s, c.done_s
    bad = np.flatnonzero(~((a <= f) & (f <= d)))
    if bad.size:
        i = int(bad[0])
        raise RuntimeError(
            f"simulation left request {i} unfinished or out of order (arrival {float(a[i])!r} "
            f"s, first token {float(f[i])!r} s, done {float(d[i])!r} s)"
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
    c = _Arrays.of(columns)
    _check_complete(c)
    n = c.arrival_s.size
    start = min(int(n * warmup_share), max(n - 1, 0))
    ttft_all, tpot_all = c.latency_s()
    ttft, tpot = ttft_all[start:], tpot_all[start:]
    attain, ttft_ok, tpot_ok = _attainment(ttft, tpot, slo)
    throughput, arrival_rps = _throughput(c, start)
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
        requests_measured=n - start,
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
