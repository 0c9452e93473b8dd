"""The planner's answer: per-phase throughput, fractional counts, and whole allocations."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from pdplan.schema.routing import DecodeRouting, PrefillRouting
from pdplan.schema.workload import SLO, Workload

__all__ = [
    "MODELS",
    "Allocation",
    "DecodePlan",
    "DecodeRouting",
    "Model",
    "Phase",
    "Plan",
    "PrefillPlan",
    "PrefillRouting",
]

_CONFIG = ConfigDict(extra="forbid", frozen=True)

Phase = Literal["prefill", "decode"]
#: The planning model: ``paper`` (M/M/1, held decode batch), ``queueing``, ``auto``.
Model = Literal["auto", "queueing", "paper"]
MODELS: tuple[str, ...] = get_args(Model)


class PrefillPlan(BaseModel):
    """Prefill sizing. Fields set to None do not apply (``--prefill-tps`` given directly)."""

    model_config = _CONFIG

    isl_tokens: float = Field(description="tokens prefilled per request (uncached ISL)")
    max_tps: float | None = Field(description="TPmax at that ISL, input tok/s, never idle")
    overhead_s: float | None = Field(description="fixed TTFT overhead, seconds")
    min_ttft_s: float | None = Field(description="smallest mean TTFT at zero load, seconds")
    effective_input_tps: float = Field(description="TP_p: input tok/s per instance with TTFT met")
    utilization: float | None = Field(description="TP_p / TPmax: busy share of an instance")
    instances: float = Field(description="N_p, fractional prefill instances for the target")
    gpus_per_instance: int | None = Field(description="GPUs per prefill instance")
    queue_model: str | None = Field(None, description="queue model used, e.g. M/M/1, M/D/1")
    service_scv: float | None = Field(
        None, description="prefill service-time SCV used (ISL spread x engine variability)"
    )
    service_scv_source: str | None = Field(
        None, description="where the engine's part of the SCV came from"
    )
    engine_scv: float | None = Field(
        None, description="the engine's part of the service SCV (what the simulator adds)"
    )
    arrival_scv: float | None = Field(
        None, description="inter-arrival SCV the queue model used (1: Poisson)"
    )


class DecodePlan(BaseModel):
    """Decode sizing. Fields set to None do not apply (``--decode-tps`` given directly)."""

    model_config = _CONFIG

    batch: int | None = Field(description="B*: largest batch meeting the TPOT SLO")
    tpot_s: float | None = Field(description="TPOT at B*, seconds")
    mean_batch: int | None = Field(
        None,
        description="mean batch per instance at the target when the batch fluctuates "
        "(queueing/auto); None when B* is held (paper)",
    )
    batch_limit: Literal["tpot_slo", "measured_range", "kv_capacity"] | None = Field(
        description="what stopped the batch growing"
    )
    effective_output_tps: float = Field(
        description="output tok/s per instance: B* / TPOT(B*) held (paper), or what the "
        "fluctuating batch sustains at the target"
    )
    instances: float = Field(description="N_d, fractional decode instances for the target")
    gpus_per_instance: int | None = Field(description="GPUs per decode instance")
    arrival_dispersion: float | None = Field(
        None, description="index of dispersion of arrivals the batch model used (1: Poisson)"
    )


class Allocation(BaseModel):
    """A whole-instance deployment mPnD and the throughput it sustains with the SLOs met."""

    model_config = _CONFIG

    prefill_instances: int = Field(ge=0, description="m, prefill instances")
    decode_instances: int = Field(ge=0, description="n, decode instances")
    gpus: int | None = Field(description="total GPUs, None if GPUs per instance are unknown")
    prefill_max_total_tps: float = Field(description="total tok/s the prefill pool sustains")
    decode_max_total_tps: float = Field(description="total tok/s the decode pool sustains")
    max_total_tps: float = Field(description="total tok/s (input + output) with both SLOs met")
    max_tpm: float = Field(description="max_total_tps in tokens per minute")
    share_of_target: float = Field(description="max_total_tps / target total tok/s")
    meets_target: bool = Field(description="True if max_total_tps >= target")
    binding: Phase = Field(description="the phase that limits max_total_tps")

    @property
    def name(self) -> str:
        """The usual notation, e.g. ``3P4D``."""
        return f"{self.prefill_instances}P{self.decode_instances}D"


class Plan(BaseModel):
    """How many prefill and decode instances a workload needs, and why."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    model: Model = Field(description="the planning model used")
    prefill_routing: PrefillRouting = Field(
        "random", description="random: a queue per prefill instance; pooled: one queue"
    )
    decode_routing: DecodeRouting = Field("least_loaded", description="decode placement")
    workload: Workload
    slo: SLO | None = Field(description="None when per-instance throughputs were given")
    rate_rps: float = Field(description="target request rate, requests/s")
    prefill: PrefillPlan
    decode: DecodePlan
    pd_ratio: float = Field(description="R = N_p / N_d (eq. 7)")
    allocation: Allocation = Field(description="smallest whole allocation meeting the target")
    alternatives: list[Allocation] = Field(description="neighbouring allocations, by GPUs")
    warnings: list[str] = Field(description="things the user should know, e.g. clamping")
    confidence: float | None = Field(
        None,
        description="planned on the pessimistic end of the profile's intervals at this "
        "confidence (--confidence); None: on the measured values",
    )
    capacity_low_tps: float | None = Field(
        None,
        description="what the chosen allocation sustains with every measured value at the "
        "pessimistic end of its interval (None: the profile records no intervals)",
    )
    capacity_high_tps: float | None = Field(None, description="the same at the optimistic end")
