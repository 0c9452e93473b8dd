"""The aggregated section of a profile: one ordinary (not disaggregated) engine instance that
prefills and decodes on the same accelerators, as measured.

Such an instance runs *steps* (iterations): every step generates one token for each running
decode and spends the rest of its token budget (``max_batched_tokens``, vLLM's
``--max-num-batched-tokens``) on prefill chunks (chunked prefill). Its speed is a step-time
model, linear in what a step carries::

    step_s = base_ms/1e3 + prefill_token_us/1e6 * prefill tokens in the step
             + decode_seq_us/1e6 * decodes in the step
             + context_token_ns/1e9 * context tokens those decodes attend to

That model is what the simulator steps through and what the planner's aggregated model reads;
the measured rate sweep (``sweep``) is the check on both.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["AggregatedProfile", "AggregatedRatePoint", "StepTimeModel"]

_CONFIG = ConfigDict(extra="forbid", frozen=True)
_MAX_TOKENS = 10_000_000
Coefficient = Annotated[float, Field(ge=0, le=1e9, allow_inf_nan=False)]
#: The shortest step of any engine (one token through the model takes far longer).
MIN_STEP_S = 1e-5


class StepTimeModel(BaseModel):
    """Duration of one step as a linear function of its content (see the module docstring).

    >>> m = StepTimeModel(base_ms=5.0, prefill_token_us=20.0, decode_seq_us=100.0)
    >>> round(m.step_s(prefill_tokens=512, decodes=32, context_tokens=0) * 1e3, 3)
    18.44
    """

    model_config = _CONFIG

    base_ms: Coefficient = Field(description="fixed cost of a step, ms")
    prefill_token_us: Coefficient = Field(description="per prefill token in the step, us")
    decode_seq_us: Coefficient = Field(description="per decode sequence in the step, us")
    context_token_ns: Coefficient = Field(
        0.0, description="per context token the step's decodes attend to, ns"
    )
    fit_points: int | None = Field(None, ge=1, description="measurements the fit rests on")
    fit_error: float | None = Field(
        None, ge=0, le=100, description="relative RMS error of the fit over its points"
    )
    fitted_from: str | None = Field(None, description="what was measured to fit it")

    @model_validator(mode="after")
    def _takes_time(self) -> StepTimeModel:
        # the lightest step carries one prompt token or one decode; a step of no duration
        # would run forever in a simulation and divide by zero in the fluid model
        lightest = min(self.step_s(1, 0, 0), self.step_s(0, 1, 0))
        if lightest < MIN_STEP_S:
            raise ValueError(
                f"a step carrying one token takes {lightest * 1e6:.3g} us (base_ms "
                f"{self.base_ms:g}, prefill_token_us {self.prefill_token_us:g}, decode_seq_us "
                f"{self.decode_seq_us:g}); an engine step takes at least {MIN_STEP_S * 1e6:g} us: "
                "check the fit or the units"
            )
        return self

    def step_s(self, prefill_tokens: float, decodes: float, context_tokens: float) -> float:
        """Seconds of one step carrying this much work."""
        return (
            self.base_ms * 1e-3
            + self.prefill_token_us * 1e-6 * prefill_tokens
            + self.decode_seq_us * 1e-6 * decodes
            + self.context_token_ns * 1e-9 * context_tokens
        )


class AggregatedRatePoint(BaseModel):
    """TTFT and TPOT measured under open-loop Poisson arrivals of one request shape."""

    model_config = _CONFIG

    isl_tokens: int = Field(gt=0, le=_MAX_TOKENS)
    osl_tokens: int = Field(gt=0, le=_MAX_TOKENS)
    rate_rps: float = Field(gt=0, le=1e6, allow_inf_nan=False, description="achieved rate")
    requests: int = Field(gt=0, description="successful requests measured")
    ttft_mean_s: float = Field(gt=0, le=86_400, allow_inf_nan=False)
    ttft_p90_s: float = Field(gt=0, le=86_400, allow_inf_nan=False)
    tpot_mean_ms: float | None = Field(None, gt=0, le=1e6, allow_inf_nan=False)
    tpot_p90_ms: float | None = Field(None, gt=0, le=1e6, allow_inf_nan=False)


class AggregatedProfile(BaseModel):
    """One aggregated instance: its scheduler's limits and its step-time model."""

    model_config = _CONFIG

    gpus_per_instance: int = Field(gt=0, le=100_000, description="GPUs per instance")
    max_batched_tokens: int = Field(
        gt=0, le=_MAX_TOKENS, description="token budget of a step (decode tokens + prefill)"
    )
    max_seqs: int = Field(gt=0, le=1_000_000, description="running requests at most")
    overhead_s: float = Field(
        0.0,
        ge=0,
        le=86_400,
        allow_inf_nan=False,
        description="fixed TTFT part outside the engine's steps (HTTP, tokenizing), seconds",
    )
    kv_capacity_tokens: int | None = Field(
        None, gt=0, le=10**13, description="KV-cache capacity, tokens; caps admissions"
    )
    step: StepTimeModel
    sweep: list[AggregatedRatePoint] = Field(
        default_factory=list, description="measured TTFT/TPOT against rate (the check)"
    )
