"""One benchmark run of another tool (or of ``pdplan loadtest``), normalized: what was sent
(the lengths, an open-loop rate or a closed-loop concurrency) and what came back (TTFT and
TPOT summaries, throughput), in pdplan's units. Every reader (:mod:`pdplan.measured.readers`)
produces these, and everything downstream (profile parts, ``compare``) reads only these. Pure.

Units: seconds for TTFT and TPOT, tokens/s for throughput. TPOT is the time between output
tokens after the first, ``(latency - TTFT) / (output tokens - 1)``: vLLM's and SGLang's
``tpot``, guidellm's ``inter_token_latency``, aiperf's ``inter_token_latency``. A tool's
``time_per_output_token`` that includes the first token is not this TPOT and is not read.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from pdplan.quantiles import Distribution, Stat

__all__ = ["FIXED_SPREAD", "BenchRun", "ReportedStats", "Tool", "finite", "nearly_fixed"]

#: Lengths whose standard deviation is at most this share of their mean count as fixed: the
#: tools' "fixed" random prompts re-tokenize to a token or two more (vLLM's random dataset at
#: range ratio 0 sent 256-258 input tokens for 256).
FIXED_SPREAD = 0.02


def finite(value: Any) -> float | None:
    """A finite number, or None (strings, booleans, NaN, inf): how the readers take a value
    a tool may have left out or written as text.

    >>> finite(2), finite("2"), finite(True), finite(float("nan"))
    (2.0, None, None, None)
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def nearly_fixed(mean: float, std: float) -> bool:
    """Fixed lengths up to :data:`FIXED_SPREAD`.

    >>> nearly_fixed(256.5, 0.8), nearly_fixed(300, 60)
    (True, False)
    """
    return std <= FIXED_SPREAD * mean


Tool = Literal["vllm-bench", "sglang-bench", "guidellm", "aiperf", "inference-perf", "pdplan"]

_CONFIG = ConfigDict(extra="forbid", frozen=True)


class ReportedStats(BaseModel):
    """A statistic's summary as a tool reported it: the mean, and the percentiles it chose to
    report (the others are unknown, not computed). Not a :class:`Distribution` because of
    those gaps; :meth:`distribution` gives one when nothing is missing.

    >>> s = ReportedStats(count=10, mean=0.5, p50=0.4, p99=1.2)
    >>> s.stat("p99"), s.stat("p90"), s.distribution() is None
    (1.2, None, True)
    """

    model_config = _CONFIG
    count: int | None = Field(None, ge=1, description="values behind it, when known")
    mean: float = Field(ge=0, allow_inf_nan=False)
    p50: float | None = Field(None, ge=0, allow_inf_nan=False)
    p90: float | None = Field(None, ge=0, allow_inf_nan=False)
    p99: float | None = Field(None, ge=0, allow_inf_nan=False)

    @classmethod
    def of(cls, values: list[float]) -> ReportedStats | None:
        """From the per-request values (a detailed export): every percentile known."""
        dist = Distribution.of(values)
        return None if dist is None else cls(**dist.model_dump(exclude={"max"}))

    def stat(self, name: Stat) -> float | None:
        """The statistic, or None when the tool did not report it."""
        value: float | None = getattr(self, name)
        return value

    def distribution(self) -> Distribution | None:
        """A :class:`Distribution` when the count and every percentile are known."""
        if self.count is None or None in (self.p50, self.p90, self.p99):
            return None
        return Distribution(**self.model_dump())


class BenchRun(BaseModel):
    """One run (one rate or one concurrency) of a benchmark client against an endpoint."""

    model_config = _CONFIG
    tool: Tool
    source: str = Field(description="the file (and the run inside it) this came from")
    model: str | None = Field(None, description="served model id, when the file names it")
    isl_tokens: float = Field(gt=0, description="mean input tokens per request")
    osl_tokens: float = Field(gt=0, description="mean output tokens per request")
    fixed_lengths: bool | None = Field(
        None, description="every request had the same ISL and OSL (None: the file cannot tell)"
    )
    rate_rps: float | None = Field(
        None, gt=0, description="open loop: the scheduled request rate (None: closed loop)"
    )
    arrival_scv: float | None = Field(
        None, ge=0, description="open loop: inter-arrival SCV (1 Poisson; gamma 1/burstiness)"
    )
    concurrency: int | None = Field(None, ge=1, description="closed loop: requests in flight")
    duration_s: float = Field(gt=0)
    requests: int = Field(ge=0, description="successful requests")
    failed: int = Field(0, ge=0)
    input_tps: float = Field(ge=0, description="input tokens/s over the run")
    output_tps: float = Field(ge=0, description="output tokens/s over the run")
    achieved_rps: float = Field(ge=0, description="successful requests/s over the run")
    ttft_s: ReportedStats | None = None
    tpot_s: ReportedStats | None = None

    @property
    def open_loop(self) -> bool:
        return self.rate_rps is not None

    @property
    def prefill_only(self) -> bool:
        """One output token per request (at most 1.5 on average): the run measures prefill."""
        return self.osl_tokens <= 1.5
