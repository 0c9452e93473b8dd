"""What a profiling run measured, part by part, as typed values (``OUT/parts/*.json``): the
prefill part (TPmax per ISL, the Poisson sweep, the drift check), the decode part (one TPOT
curve per request shape) and the overhead part (P/D path against prefill alone). Points are
the profile's own types (:mod:`pdplan.schema.profile`), so a part that validates assembles
into a valid profile. Parts read back for a resume are validated like any input."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from pdplan.quantiles import Distribution
from pdplan.schema.profile import DecodeCurve, PrefillPoint, TtftRatePoint

__all__ = ["DecodePart", "OverheadPart", "PartMeta", "PrefillPart"]

_CONFIG = ConfigDict(extra="forbid", frozen=True)


class PartMeta(BaseModel):
    """Where and how a part was measured."""

    model_config = _CONFIG
    model: str | None = Field(None, description="served model id")
    url: str | None = Field(None, description="the endpoint measured")
    engine_version: str | None = Field(None, description="the engine's /version")
    date: str | None = Field(None, description="when (ISO 8601, UTC)")
    prompt_mode: str | None = Field(None, description="text, chat or ids")
    cpu: str | None = Field(None, description="the measuring machine's CPU")


class PrefillPart(BaseModel):
    """TPmax and idle TTFT per ISL, the Poisson TTFT sweep, and TPmax measured again."""

    model_config = _CONFIG
    max_throughput: list[PrefillPoint] = Field(min_length=1)
    ttft_vs_rate: list[TtftRatePoint] = Field(default_factory=list)
    tpmax_drift: float | None = Field(
        None, description="TPmax at the first ISL at the end over the first time, minus 1"
    )
    meta: PartMeta | None = None


class DecodePart(BaseModel):
    """TPOT and output tok/s per decode batch, one curve per (ISL, OSL)."""

    model_config = _CONFIG
    curves: list[DecodeCurve] = Field(min_length=1)
    meta: PartMeta | None = None


class OverheadPart(BaseModel):
    """Zero-load TTFT through the P/D path and at the prefill instance, and their difference
    (the P->D transfer) with its Welch 90 % interval."""

    model_config = _CONFIG
    isl_tokens: int = Field(gt=0)
    pd_url: str
    prefill_url: str
    pd_ttft_s: Distribution
    prefill_ttft_s: Distribution
    pd_transfer_s: float = Field(ge=0)
    pd_transfer_low_s: float | None = Field(None, ge=0)
    pd_transfer_high_s: float | None = Field(None, ge=0)
