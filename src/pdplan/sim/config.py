"""Simulation inputs: the cluster shape and policies, the load, the run length and seed."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pdplan.sim.lengths import Fixed, LengthDist

__all__ = ["ClusterConfig", "PrefillRouting", "SimConfig", "TraceRow"]

_CONFIG = ConfigDict(extra="forbid", frozen=True)

PrefillRouting = Literal["round_robin", "random", "least_outstanding", "shared_queue"]
DecodeRouting = Literal["least_loaded", "round_robin", "random"]


class ClusterConfig(BaseModel):
    """An xPyD cluster: instance counts and how requests are placed and batched."""

    model_config = _CONFIG

    prefill_instances: int = Field(gt=0, description="m, prefill instances")
    decode_instances: int = Field(gt=0, description="n, decode instances")
    prefill_routing: PrefillRouting = Field(
        "random",
        description="random/round_robin/least_outstanding: a queue per instance; "
        "shared_queue: one FCFS queue served by every instance (M/M/c-like)",
    )
    decode_routing: DecodeRouting = Field("least_loaded", description="decode placement")
    prefill_budget_tokens: int | None = Field(
        None,
        gt=0,
        description="chunked-prefill budget: a prefill step takes queued requests while their "
        "tokens fit (at least one); None: one request per step (the paper's M/M/1)",
    )
    prefill_service_scv: float | None = Field(
        None,
        ge=0,
        allow_inf_nan=False,
        description="engine variability of a prefill's service time: each request's compute "
        "time is ISL / TPmax times a gamma factor of mean 1 and this SCV (0: deterministic); "
        "None: estimated from the profile's Poisson TTFT sweep (pdplan.variability), else 0",
    )
    decode_max_batch: int | None = Field(
        None, gt=0, description="max concurrent decodes per instance; None: largest measured"
    )
    kv_capacity_tokens: int | None = Field(
        None, gt=0, description="KV tokens per decode instance; None: the profile's, or no cap"
    )
    kv_bytes_per_token: float | None = Field(
        None, gt=0, description="KV-cache bytes per token, to time the P->D transfer"
    )
    kv_bandwidth_gbps: float | None = Field(
        None, gt=0, description="P->D bandwidth in gigabits/s, with kv_bytes_per_token"
    )

    @model_validator(mode="after")
    def _kv_pair(self) -> ClusterConfig:
        if (self.kv_bytes_per_token is None) != (self.kv_bandwidth_gbps is None):
            raise ValueError("kv_bytes_per_token and kv_bandwidth_gbps go together")
        return self


class TraceRow(BaseModel):
    """One request of a trace: when it arrives and its lengths."""

    model_config = _CONFIG

    arrival_s: float = Field(ge=0, allow_inf_nan=False)
    isl_tokens: int = Field(gt=0)
    osl_tokens: int = Field(gt=0)


class SimConfig(BaseModel):
    """A simulation run. Poisson arrivals at ``rate_rps``, or a trace replayed as given."""

    model_config = _CONFIG

    cluster: ClusterConfig
    rate_rps: float | None = Field(None, gt=0, allow_inf_nan=False, description="Poisson rate")
    trace: list[TraceRow] | None = Field(None, description="replayed instead of Poisson")
    isl: LengthDist = Field(default_factory=lambda: Fixed(tokens=6144))
    osl: LengthDist = Field(default_factory=lambda: Fixed(tokens=512))
    requests: int = Field(20_000, gt=0, description="requests to simulate (Poisson)")
    warmup_share: float = Field(0.1, ge=0, lt=1, description="first share of requests ignored")
    seed: int = 42

    @model_validator(mode="after")
    def _one_source(self) -> SimConfig:
        if (self.rate_rps is None) == (self.trace is None):
            raise ValueError("give exactly one of rate_rps and trace")
        return self
