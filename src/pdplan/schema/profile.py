"""The profile: what an engine measured, the planner's only view of the hardware.

Schema version 2. Units are in the field names. A profile has a prefill part (maximum prefill
throughput per input length, the fixed TTFT overhead, GPUs per instance), a decode part
(TPOT per decode batch size, one curve per (ISL, OSL), GPUs per instance, optional KV-cache
capacity) and, optionally, an aggregated part (one ordinary engine that prefills and decodes:
its step-time model, :mod:`pdplan.schema.aggregated`). Version 1 is version 2 without the
aggregated part: version-1 documents are read as version 2 (the migration). See the README for
a complete example file.
"""

from __future__ import annotations

from typing import Annotated, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from pdplan.schema.aggregated import AggregatedProfile
from pdplan.units import ms_to_s

__all__ = [
    "INTERVAL_CONFIDENCE",
    "MIN_TPOT_MS",
    "SCHEMA_VERSION",
    "DecodeCurve",
    "DecodePoint",
    "DecodeProfile",
    "PrefillPoint",
    "PrefillProfile",
    "Profile",
    "ProfileMetadata",
    "TtftRatePoint",
]

SCHEMA_VERSION = 2

_CONFIG = ConfigDict(extra="forbid", frozen=True)

#: Bounds of what any engine measures; values beyond them are typing or unit mistakes.
MAX_TPS = 1e8  # tokens/s of one instance (a whole 8-GPU node prefills ~3e4)
MAX_TOKENS = 10_000_000  # request length
MAX_BATCH = 1_000_000  # concurrent requests on one instance
MAX_SECONDS = 86_400.0  # a latency or an overhead
#: The fastest TPOT taken for a measurement: 0.1 ms is 10,000 tokens/s for one sequence (the
#: fastest serving systems reach a few thousand); below, a TPOT written in seconds.
MIN_TPOT_MS, MAX_TPOT_MS = 0.1, 1e6
#: Measured output tok/s of a decode point must lie in this band around batch / TPOT.
OUTPUT_TPS_BAND = (0.02, 1.5)

PositiveInt = Annotated[int, Field(gt=0)]


def _at_least_min_tpot(value: float) -> float:
    if value < MIN_TPOT_MS:
        raise ValueError(
            f"a TPOT of {value:g} ms is {1e3 / value:,.0f} tokens/s for one sequence, faster than "
            f"any engine generates (at least {MIN_TPOT_MS:g} ms): TPOT is in milliseconds "
            "(seconds written?)"
        )
    return value


TpotMs = Annotated[
    float,
    Field(gt=0, le=MAX_TPOT_MS, allow_inf_nan=False),
    AfterValidator(_at_least_min_tpot),
]
Tokens = Annotated[int, Field(gt=0, le=MAX_TOKENS)]
Seconds = Annotated[float, Field(gt=0, le=MAX_SECONDS, allow_inf_nan=False)]
P = TypeVar("P", bound=BaseModel)


def _within(model: BaseModel, value: str, low: str, high: str) -> None:
    """A measured value lies inside its interval ``[low, high]`` (either end may be absent)."""
    v, lo, hi = getattr(model, value), getattr(model, low), getattr(model, high)
    if lo is not None and lo > v:
        raise ValueError(f"{low} {lo:.6g} is above {value} {v:.6g}")
    if hi is not None and hi < v:
        raise ValueError(f"{high} {hi:.6g} is below {value} {v:.6g}")


#: The confidence of the intervals a profile records (pdplan measures 90 % intervals).
INTERVAL_CONFIDENCE = 0.9


def _sorted_unique_by(points: list[P], key: str) -> list[P]:
    """Measured points sorted by ``key``, which must not repeat."""
    values = [getattr(p, key) for p in points]
    if len(set(values)) != len(values):
        raise ValueError(f"{key} values must be unique, got {values}")
    return sorted(points, key=lambda p: getattr(p, key))


class ProfileMetadata(BaseModel):
    """Where the numbers come from. Free text, all optional."""

    model_config = _CONFIG

    model: str | None = Field(None, description="served model, e.g. DeepSeek-V3.1-Terminus")
    engine: str | None = Field(None, description="inference engine, e.g. sglang, vllm")
    engine_version: str | None = Field(None, description="engine version, e.g. 0.5.8")
    hardware: str | None = Field(None, description="hardware of one instance, e.g. 8xH200")
    cpu: str | None = Field(
        None,
        description="CPU model and vector extensions of the machine that measured (the "
        "engine's, when it ran on the same host), e.g. for a CPU engine",
    )
    parallelism: str | None = Field(None, description="parallelism, e.g. TP8 EP8")
    date: str | None = Field(None, description="when it was measured (ISO 8601)")
    source: str | None = Field(None, description="who measured it, or the publication")
    cost_per_gpu_hour: float | None = Field(
        None,
        gt=0,
        le=1e6,
        allow_inf_nan=False,
        description="price of one GPU (accelerator) of this hardware for an hour, in the "
        "user's currency; what pdplan size minimises across hardware options",
    )
    notes: str | None = Field(None, description="anything else worth knowing")


class PrefillPoint(BaseModel):
    """Maximum prefill throughput of one instance at one input length."""

    model_config = _CONFIG

    isl_tokens: Tokens = Field(description="input length of every request, tokens")
    max_tps: float = Field(
        gt=0,
        le=MAX_TPS,
        allow_inf_nan=False,
        description="input tokens/s with the instance never idle",
    )
    max_tps_low: float | None = Field(
        None, gt=0, le=MAX_TPS, allow_inf_nan=False, description="90 % interval of max_tps, low"
    )
    max_tps_high: float | None = Field(
        None, gt=0, le=MAX_TPS, allow_inf_nan=False, description="90 % interval of max_tps, high"
    )
    concurrency: PositiveInt | None = Field(
        None, le=MAX_BATCH, description="closed-loop concurrency at which max_tps was measured"
    )
    idle_ttft_s: Seconds | None = Field(None, description="mean TTFT at zero load, seconds")

    @model_validator(mode="after")
    def _interval(self) -> PrefillPoint:
        _within(self, "max_tps", "max_tps_low", "max_tps_high")
        return self


class TtftRatePoint(BaseModel):
    """Measured TTFT under open-loop Poisson arrivals at one rate (the paper's Figure 1)."""

    model_config = _CONFIG

    isl_tokens: Tokens = Field(description="input length of every request, tokens")
    rate_rps: float = Field(
        gt=0, le=1e6, allow_inf_nan=False, description="achieved arrival rate, req/s"
    )
    ttft_mean_s: Seconds = Field(description="mean TTFT, seconds")
    ttft_mean_low_s: Seconds | None = Field(
        None, description="90 % interval of the mean TTFT (batch means), low"
    )
    ttft_mean_high_s: Seconds | None = Field(
        None, description="90 % interval of the mean TTFT (batch means), high"
    )
    ttft_p50_s: Seconds = Field(description="median TTFT, seconds")
    ttft_p90_s: Seconds = Field(description="p90 TTFT, seconds")
    ttft_p99_s: Seconds = Field(description="p99 TTFT, seconds")
    requests: PositiveInt = Field(description="successful requests measured")

    @model_validator(mode="after")
    def _interval(self) -> TtftRatePoint:
        _within(self, "ttft_mean_s", "ttft_mean_low_s", "ttft_mean_high_s")
        return self


class PrefillProfile(BaseModel):
    """One prefill instance as measured."""

    model_config = _CONFIG

    gpus_per_instance: PositiveInt = Field(
        le=100_000, description="GPUs (accelerators) per instance"
    )
    overhead_s: float = Field(
        ge=0,
        le=MAX_SECONDS,
        allow_inf_nan=False,
        description="fixed TTFT part outside prefill queueing and compute: client/server "
        "transfer and P->D KV-cache transfer, seconds",
    )
    overhead_low_s: float | None = Field(
        None, ge=0, le=MAX_SECONDS, allow_inf_nan=False, description="90 % interval, low"
    )
    overhead_high_s: float | None = Field(
        None, ge=0, le=MAX_SECONDS, allow_inf_nan=False, description="90 % interval, high"
    )
    engine_scv: float | None = Field(
        None,
        ge=0,
        le=100,
        allow_inf_nan=False,
        description="the engine's prefill service-time SCV when known (0: deterministic, 1: "
        "exponential); when set, the planner uses it instead of fitting the Poisson sweep",
    )
    tpmax_drift: float | None = Field(
        None,
        gt=-1,
        le=10,
        allow_inf_nan=False,
        description="TPmax measured again at the end of the profile, relative to the first "
        "measurement (-0.12: 12 % slower by the end); a sign of engine drift",
    )
    dp_groups: PositiveInt = Field(
        1,
        le=4096,
        description="attention data-parallel groups per instance; each schedules its requests "
        "independently and is modelled as its own queue (the paper's note on DP)",
    )
    chunked_prefill_tokens: Tokens | None = Field(
        None, description="chunked-prefill budget (tokens per prefill step) used when measuring"
    )
    max_throughput: list[PrefillPoint] = Field(
        min_length=1, description="TPmax per ISL; interpolated linearly in ISL between points"
    )
    ttft_vs_rate: list[TtftRatePoint] = Field(
        default_factory=list, description="optional measured TTFT against arrival rate"
    )

    @field_validator("max_throughput")
    @classmethod
    def _sorted_unique(cls, points: list[PrefillPoint]) -> list[PrefillPoint]:
        return _sorted_unique_by(points, "isl_tokens")

    @model_validator(mode="after")
    def _interval(self) -> PrefillProfile:
        _within(self, "overhead_s", "overhead_low_s", "overhead_high_s")
        return self


class DecodePoint(BaseModel):
    """Decode speed at one batch size (concurrency)."""

    model_config = _CONFIG

    batch: PositiveInt = Field(le=MAX_BATCH, description="decode batch size (concurrent requests)")
    tpot_ms: TpotMs = Field(description="mean time per output token, ms")
    tpot_low_ms: TpotMs | None = Field(None, description="90 % interval of tpot_ms, low")
    tpot_high_ms: TpotMs | None = Field(None, description="90 % interval of tpot_ms, high")
    tpot_p50_ms: TpotMs | None = Field(None, description="p50 TPOT, ms")
    tpot_p90_ms: TpotMs | None = Field(None, description="p90 TPOT, ms")
    tpot_p99_ms: TpotMs | None = Field(None, description="p99 TPOT, ms")
    output_tps: float | None = Field(
        None,
        gt=0,
        le=MAX_TPS,
        allow_inf_nan=False,
        description="measured output tokens/s (optional); within "
        f"{OUTPUT_TPS_BAND[0]:g}..{OUTPUT_TPS_BAND[1]:g} x batch / TPOT",
    )

    @model_validator(mode="after")
    def _plausible_output(self) -> DecodePoint:
        _within(self, "tpot_ms", "tpot_low_ms", "tpot_high_ms")
        if self.output_tps is None:
            return self
        held_tps = self.batch / ms_to_s(self.tpot_ms)
        low, high = OUTPUT_TPS_BAND
        if not low * held_tps <= self.output_tps <= high * held_tps:
            raise ValueError(
                f"output_tps {self.output_tps:.6g} is not plausible at batch {self.batch} and "
                f"TPOT {self.tpot_ms:.6g} ms (batch / TPOT = {held_tps:.6g} tok/s): it must lie "
                f"within {low:g}..{high:g} x that"
            )
        return self


class DecodeCurve(BaseModel):
    """TPOT against batch size, measured at one request shape."""

    model_config = _CONFIG

    isl_tokens: Tokens = Field(description="input length of the measured requests, tokens")
    osl_tokens: Tokens = Field(description="output length of the measured requests, tokens")
    points: list[DecodePoint] = Field(min_length=1, description="one point per batch size")

    @field_validator("points")
    @classmethod
    def _sorted_unique(cls, points: list[DecodePoint]) -> list[DecodePoint]:
        return _sorted_unique_by(points, "batch")


class DecodeProfile(BaseModel):
    """One decode instance as measured."""

    model_config = _CONFIG

    gpus_per_instance: PositiveInt = Field(
        le=100_000, description="GPUs (accelerators) per instance"
    )
    kv_capacity_tokens: PositiveInt | None = Field(
        None, le=10**13, description="KV-cache capacity of one instance, tokens; caps the batch"
    )
    curves: list[DecodeCurve] = Field(min_length=1, description="one curve per (ISL, OSL)")

    def curve_for(self, isl_tokens: float, osl_tokens: float) -> DecodeCurve:
        """The curve measured at (ISL, OSL), else the nearest in mean context ISL + OSL/2."""
        for curve in self.curves:
            if (curve.isl_tokens, curve.osl_tokens) == (isl_tokens, osl_tokens):
                return curve
        target = isl_tokens + osl_tokens / 2
        return min(self.curves, key=lambda c: abs(c.isl_tokens + c.osl_tokens / 2 - target))

    @model_validator(mode="after")
    def _unique_shapes(self) -> DecodeProfile:
        shapes = [(c.isl_tokens, c.osl_tokens) for c in self.curves]
        if len(set(shapes)) != len(shapes):
            raise ValueError(f"curves: (isl_tokens, osl_tokens) must be unique, got {shapes}")
        return self


class Profile(BaseModel):
    """Everything the planner knows about the engine and hardware."""

    model_config = _CONFIG

    schema_version: Literal[2] = Field(
        description="profile schema version; this is version 2 (version 1 is migrated)"
    )
    metadata: ProfileMetadata = Field(default_factory=ProfileMetadata)
    prefill: PrefillProfile
    decode: DecodeProfile
    aggregated: AggregatedProfile | None = Field(
        None, description="one aggregated (not disaggregated) instance, when measured"
    )

    @model_validator(mode="before")
    @classmethod
    def _migrate(cls, data: object) -> object:
        """Version 1 -> 2: the same document (version 2 only adds the aggregated part)."""
        if isinstance(data, dict) and data.get("schema_version") == 1:
            return {**data, "schema_version": SCHEMA_VERSION}
        return data
