"""Simulation inputs: the cluster shape and policies, the workload, the run length and seed."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pdplan.schema.routing import DecodeRouting, PrefillRouting
from pdplan.schema.trace import MAX_TRACE_REQUESTS
from pdplan.schema.workload import Workload

__all__ = [
    "MAX_SIM_INSTANCES",
    "MAX_SIM_REQUESTS",
    "ClusterConfig",
    "SimConfig",
]

_CONFIG = ConfigDict(extra="forbid", frozen=True)
#: Largest instance count per phase one simulation takes (routing scans the instances).
MAX_SIM_INSTANCES = 1000
#: Largest number of generated requests one simulation takes (~10 s per million here); a
#: replayed trace holds at most as many (:data:`pdplan.schema.trace.MAX_TRACE_REQUESTS`).
MAX_SIM_REQUESTS = MAX_TRACE_REQUESTS


class ClusterConfig(BaseModel):
    """An xPyD cluster: instance counts and how requests are placed and batched."""

    model_config = _CONFIG

    prefill_instances: int = Field(gt=0, le=MAX_SIM_INSTANCES, description="m, prefill instances")
    decode_instances: int = Field(gt=0, le=MAX_SIM_INSTANCES, description="n, decode instances")
    prefill_routing: PrefillRouting = Field(
        "random",
        description="random/round_robin/least_outstanding: a queue per instance (per attention-"
        "DP group); pooled: one FCFS queue served by every instance (M/M/c-like)",
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
        le=100,
        allow_inf_nan=False,
        description="engine variability of a prefill's service time: each request's compute "
        "time is its ISL's service time times a gamma factor of mean 1 and this SCV (0: "
        "deterministic); None: what the default planning model (auto) assumes, the SCV "
        "fitted from the profile's Poisson TTFT sweep, else what makes the service exponential "
        "with the workload's lengths (pdplan.engine.variability.engine_scv)",
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

    @property
    def name(self) -> str:
        """The usual notation, e.g. ``3P4D``."""
        return f"{self.prefill_instances}P{self.decode_instances}D"


class SimConfig(BaseModel):
    """A simulation run: the cluster, the workload (a trace is replayed whole; other arrival
    processes generate ``requests`` arrivals), the warm-up share and the seed."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    cluster: ClusterConfig
    workload: Workload
    requests: int = Field(
        20_000, gt=0, le=MAX_SIM_REQUESTS, description="arrivals to generate (not a replay)"
    )
    warmup_share: float | None = Field(
        None,
        ge=0,
        lt=1,
        description="first share of requests ignored; None: 0 for a replay, 0.1 otherwise",
    )
    seed: int = 42

    @property
    def measured_from(self) -> float:
        """The warm-up share in effect."""
        return self.workload.warmup_share if self.warmup_share is None else self.warmup_share
