"""What each command's options hold, typed: one ``TypedDict`` per option group (the groups
of :mod:`pdplan.cli.options`) and one per command, built from the groups. A command takes
``**kw: Unpack[SizeOptions]``; the helpers of :mod:`pdplan.cli.inputs` take the group they
read, so a key read is a key the command declares. An option with no default holds ``None``
when not given."""

from collections.abc import Mapping
from pathlib import Path
from typing import Literal, NotRequired, TypedDict, cast

from pdplan.bench.modes import PromptMode
from pdplan.quantiles import Stat
from pdplan.schema.plan import Model
from pdplan.schema.routing import DecodeRouting, PrefillRouting

__all__ = [
    "EXPORT_TARGETS",
    "MODES",
    "CapacityOptions",
    "ClientOptions",
    "CompareOptions",
    "ExportTarget",
    "ImportOptions",
    "LoadtestOptions",
    "MixOptions",
    "Mode",
    "ProfileAggregatedOptions",
    "ProfileAllOptions",
    "ProfileDecodeOptions",
    "ProfileOptions",
    "ProfileOverheadOptions",
    "ProfilePrefillOptions",
    "ScheduleOptions",
    "SessionOptions",
    "SimOptions",
    "SimulateOptions",
    "SizeOptions",
    "SloOptions",
    "TraceCmdOptions",
    "TraceOptions",
    "TraceShape",
    "WorkloadOptions",
    "option_value",
    "trace_workload_options",
]

#: What ``size --export`` writes.
ExportTarget = Literal["vllm", "sglang", "llm-d", "dynamo"]
EXPORT_TARGETS: tuple[ExportTarget, ...] = ("vllm", "sglang", "llm-d", "dynamo")
#: How ``size --mode`` serves.
Mode = Literal["disaggregated", "aggregated", "compare"]
MODES: tuple[Mode, ...] = ("disaggregated", "aggregated", "compare")


class TraceShape(TypedDict):
    """What shapes a trace's replay."""

    time_scale: str | None
    rate_scale: str | None
    trace_rps: str | None
    trace_slice: str | None
    max_context: int | None
    trace_osl: int | None


class TraceOptions(TraceShape):
    """``--trace`` and what shapes its replay."""

    trace_path: str | None


class WorkloadOptions(TraceOptions):
    """The workload: lengths, target, arrivals, prefix reuse, or a trace; the profile."""

    profile_path: str | None
    isl: int
    osl: int
    isl_dist: str
    osl_dist: str
    tpm: str | None
    total_tps: str | None
    rps: str | None
    arrivals: str | None
    prefix_hit_rate: float
    summary_only: NotRequired[bool]  # pdplan trace: any rate is described, none refused


def trace_workload_options(
    kw: TraceShape, trace_path: str | None, profile_path: str | None, *, summary_only: bool = False
) -> WorkloadOptions:
    """The workload options of a command that replays a trace and nothing else: the trace's
    own options, and those of a generated workload at values that change nothing."""
    return {
        "trace_path": trace_path,
        "time_scale": kw["time_scale"],
        "rate_scale": kw["rate_scale"],
        "trace_rps": kw["trace_rps"],
        "trace_slice": kw["trace_slice"],
        "max_context": kw["max_context"],
        "trace_osl": kw["trace_osl"],
        "profile_path": profile_path,
        "isl": 1,
        "osl": 1,
        "isl_dist": "fixed",
        "osl_dist": "fixed",
        "tpm": None,
        "total_tps": None,
        "rps": None,
        "arrivals": None,
        "prefix_hit_rate": 0.0,
        "summary_only": summary_only,
    }


class SloOptions(TypedDict):
    ttft: str
    tpot: str
    ttft_stat: Stat
    tpot_stat: Stat
    stat: Stat | None


class ClientOptions(TypedDict):
    request_timeout: str
    connect_timeout: str


class MixOptions(TypedDict):
    """A hardware choice: options per phase and the budgets."""

    prefill_profiles: tuple[str, ...]
    decode_profiles: tuple[str, ...]
    gpu_cost: str | None
    gpu_budget: int | None
    max_cost_per_hour: str | None


class SizeOptions(WorkloadOptions, SloOptions, MixOptions):
    prefill_max_tps: str | None
    overhead: str | None
    decode_table: str | None
    prefill_tps: str | None
    decode_tps: str | None
    prefill_gpus: int | None
    decode_gpus: int | None
    as_json: bool
    model: Model
    routing: PrefillRouting
    decode_routing: DecodeRouting
    slo_window: str | None
    export_engine: ExportTarget | None
    served_model: str
    confidence: float | None
    mode: Mode
    verify: bool


class SimOptions(WorkloadOptions, SloOptions):
    """The simulated cluster and run (``simulate`` and ``capacity``)."""

    prefill_n: int
    decode_n: int
    routing: PrefillRouting
    decode_routing: DecodeRouting
    prefill_budget: int | None
    prefill_scv: float | None
    requests: int
    seed: int
    as_json: bool


class SimulateOptions(SimOptions):
    pass


class CapacityOptions(SimOptions):
    pass


class LoadtestOptions(WorkloadOptions, SloOptions, ClientOptions):
    url: str
    duration: str
    sweep_text: str
    prefill_n: int | None
    decode_n: int | None
    out: Path
    model_id: str | None
    workers_text: str
    ray_address: str | None
    max_send_lag: str | None
    plan_model: Model
    prompt_mode: PromptMode | None
    plot_path: Path | None
    as_json: bool


class TraceCmdOptions(TraceShape):
    seed: int


class ScheduleOptions(TraceOptions, SloOptions):
    """``pdplan schedule``: the trace, the SLOs, the steps, the delay and the bounds."""

    profile_path: str | None
    seed: int
    step: str
    slo_window: str | None
    scale_up_delay: str
    min_prefill: int
    max_prefill: int
    min_decode: int
    max_decode: int
    interval: str
    policies: bool
    gpu_cost: str | None
    jobs: int | None
    ray_address: str | None
    model: Model
    routing: PrefillRouting
    decode_routing: DecodeRouting
    as_json: bool
    csv_path: str | None
    export: str | None


class ImportOptions(TypedDict):
    prefill_gpus: int
    decode_gpus: int
    hardware: str | None
    engine: str | None


class CompareOptions(SloOptions):
    profile_path: str
    measured: tuple[str, ...]
    prefill_n: int
    decode_n: int
    model: Model
    requests: int


class SessionOptions(ClientOptions):
    """What a measuring session takes: the output directory, the model, the prompts."""

    out: Path
    model: str | None
    prompt_mode: PromptMode | None


class ProfileOptions(SessionOptions):
    """What every ``profile`` measurement takes."""

    prefill_gpus: int
    decode_gpus: int
    kv_capacity_tokens: int | None
    hardware: str | None
    seed: int
    plot_path: Path | None
    min_duration: str


class _PrefillSteps(TypedDict):
    isl_text: str
    concurrency: int | None
    requests: int
    loads: str
    sweep_requests: int
    precision: str | None
    point_budget: str


class _DecodeSteps(TypedDict):
    decode_isl: int
    osl: int
    batch_text: str
    rounds: int


class ProfilePrefillOptions(ProfileOptions, _PrefillSteps):
    pass


class ProfileDecodeOptions(ProfileOptions, _DecodeSteps):
    pass


class ProfileOverheadOptions(ProfileOptions):
    pass


class ProfileAllOptions(ProfileOptions, _PrefillSteps, _DecodeSteps):
    pass


class ProfileAggregatedOptions(SessionOptions):
    isl: int
    osl: int
    max_batched_tokens: int
    max_seqs: int
    gpus: int
    batch_text: str
    loads: str
    sweep_requests: int
    min_duration: str
    seed: int


def option_value(kw: object, name: str) -> object:
    """The value of the option ``name`` (a name held in a variable: checks that loop over
    several options).

    >>> option_value({"isl": 5}, "isl"), option_value({}, "osl")
    (5, None)
    """
    return cast(Mapping[str, object], kw).get(name)
