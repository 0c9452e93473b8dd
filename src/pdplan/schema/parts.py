"""What a measuring run delivered, as typed values. A profiling run's parts
(``OUT/parts/*.json``): the prefill part (TPmax per ISL, the Poisson sweep, the drift check),
the decode part (one TPOT curve per request shape) and the overhead part (P/D path against
prefill alone); their points are the profile's own types (:mod:`pdplan.schema.profile`), so a
part that validates assembles into a valid profile. A load test's steps
(``OUT/steps.jsonl``): :class:`LoadtestStep`. Everything read back for a resume is validated
like any input."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from pdplan.quantiles import Distribution
from pdplan.schema.aggregated import AggregatedProfile
from pdplan.schema.profile import DecodeCurve, PrefillPoint, TtftRatePoint
from pdplan.schema.verdict import Failure

__all__ = [
    "AggregatedPart",
    "DecodePart",
    "LoadtestStep",
    "OverheadPart",
    "PartMeta",
    "PrefillPart",
    "WorkerLoad",
]

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


class AggregatedPart(BaseModel):
    """One aggregated engine: the profile section, and the points its step model rests on."""

    model_config = _CONFIG
    aggregated: AggregatedProfile
    prompt_points: list[tuple[int, float]] = Field(
        description="(ISL, median idle TTFT s) of the prompts-alone requests"
    )
    decode_curves: list[DecodeCurve] = Field(description="the decodes-alone sweeps")
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


class WorkerLoad(BaseModel):
    """What one load-generator worker sent in a step, and how late against the schedule."""

    model_config = _CONFIG
    worker: int = Field(ge=0)
    host: str
    requests: int = Field(ge=0)
    offered_rps: float = Field(ge=0, description="the rate this worker actually sent")
    send_lag_s: Distribution | None = Field(description="send time minus scheduled time")
    cpu_s: float | None = Field(None, ge=0, description="CPU the worker spent sending")
    clock_offset_s: float | None = Field(
        None, description="the worker's wall clock minus the controller's (Ray workers)"
    )
    clock_uncertainty_s: float | None = Field(
        None, description="half the round trip that measured the offset"
    )


class LoadtestStep(BaseModel):
    """One step of a load test: what was scheduled and sent, what came back, the verdict
    (:func:`pdplan.schema.verdict.judge`)."""

    model_config = _CONFIG
    multiplier: float = Field(gt=0, description="the multiple of the target's rate scheduled")
    scheduled_rps: float = Field(ge=0, description="the schedule's own mean rate")
    offered_rps: float = Field(ge=0, description="the rate actually sent")
    send_lag_s: Distribution | None = Field(description="send time minus scheduled time")
    generator_behind: bool = Field(
        description="a worker's send lag p99 over the limit: the generator, not the server, was "
        "the bottleneck (the step fails)"
    )
    send_lag_limit_s: float | None = Field(None, gt=0, description="the limit it was judged by")
    workers: list[WorkerLoad] | None = Field(
        None, description="per worker, when several sent the step (--workers, --ray)"
    )
    requests: int = Field(ge=0)
    failed: int = Field(ge=0)
    first_error: str | None
    achieved_rps: float = Field(ge=0, description="successes over the span of the step")
    achieved_total_tps: float = Field(ge=0, description="input + output tokens/s delivered")
    ttft_s: Distribution | None
    tpot_s: Distribution | None
    slo_attainment: float = Field(ge=0, le=1, description="share of requests meeting both")
    meets_slo: bool
    failure: Failure | None = Field(description="what binds when the step misses")
    run_id: str | None = Field(None, description="the run that measured it (resumes keep it)")
