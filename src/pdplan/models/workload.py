"""What the user asks for: request lengths, a throughput target and the latency SLOs."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pdplan.quantiles import Stat
from pdplan.units import tpm_to_tps, tps_to_tpm

__all__ = ["SLO", "Workload"]

_CONFIG = ConfigDict(extra="forbid", frozen=True)


class Workload(BaseModel):
    """Request lengths and the throughput target.

    ``total_tps`` counts input plus output tokens, the paper's definition: 5 M tokens per
    minute is 83,333 tok/s, and the request rate is ``total_tps / (ISL + OSL)``.

    >>> w = Workload.from_tpm(isl_tokens=6144, osl_tokens=512, tpm=5e6)
    >>> round(w.total_tps, 1), round(w.rate_rps, 3)
    (83333.3, 12.52)
    """

    model_config = _CONFIG

    isl_tokens: int = Field(gt=0, description="input (prompt) length of a request, tokens")
    osl_tokens: int = Field(gt=0, description="output length of a request, tokens")
    total_tps: float = Field(
        gt=0, allow_inf_nan=False, description="target throughput, input + output tokens/s"
    )
    prefix_hit_rate: float = Field(
        0.0,
        ge=0.0,
        lt=1.0,
        allow_inf_nan=False,
        description="share of input tokens served from the prefix cache, in [0, 1)",
    )
    isl_scv: float = Field(
        0.0,
        ge=0.0,
        allow_inf_nan=False,
        description="squared coefficient of variation of ISL (0: fixed, 1: exponential)",
    )

    @classmethod
    def from_tpm(cls, *, isl_tokens: int, osl_tokens: int, tpm: float, **extra: Any) -> Workload:
        """Build from a target in tokens per minute (input + output); ``extra``: other fields."""
        return cls(isl_tokens=isl_tokens, osl_tokens=osl_tokens, total_tps=tpm_to_tps(tpm), **extra)

    @classmethod
    def from_rps(
        cls, *, isl_tokens: int, osl_tokens: int, rate_rps: float, **extra: Any
    ) -> Workload:
        """Build from a target request rate (requests/s); ``extra``: other fields."""
        return cls(
            isl_tokens=isl_tokens,
            osl_tokens=osl_tokens,
            total_tps=rate_rps * (isl_tokens + osl_tokens),
            **extra,
        )

    @property
    def rate_rps(self) -> float:
        """Request rate lambda = total_tps / (ISL + OSL), requests/s."""
        return self.total_tps / (self.isl_tokens + self.osl_tokens)

    @property
    def tpm(self) -> float:
        """The target in tokens per minute."""
        return tps_to_tpm(self.total_tps)

    @property
    def prefill_isl_tokens(self) -> float:
        """Input tokens that prefill must compute: ISL * (1 - prefix_hit_rate)."""
        return self.isl_tokens * (1.0 - self.prefix_hit_rate)


class SLO(BaseModel):
    """Latency objectives, met on a statistic: the mean (the paper's) or a percentile.

    >>> SLO(ttft_s=2.0, tpot_s=0.02).tpot_s
    0.02
    """

    model_config = _CONFIG

    ttft_s: float = Field(gt=0, allow_inf_nan=False, description="time to first token, seconds")
    tpot_s: float = Field(
        gt=0, allow_inf_nan=False, description="time per output token after the first, seconds"
    )
    ttft_stat: Stat = Field("mean", description="the TTFT statistic that must meet ttft_s")
    tpot_stat: Stat = Field("mean", description="the TPOT statistic that must meet tpot_s")
