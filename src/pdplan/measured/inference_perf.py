"""inference-perf per-stage reports (``stage_<N>_lifecycle_metrics.json``, one per load
stage), with the run's ``config.yaml`` beside them for the load type. Pure: parsed JSON in,
:class:`~pdplan.measured.runs.BenchRun` out.

inference-perf reports latencies in seconds. Its ``time_per_output_token`` is ``(last token -
first token) / (output tokens - 1)``: pdplan's TPOT. ``normalized_time_per_output_token`` is
latency / output tokens (first token included) and is not read. inference-perf gives TTFT only
for responses with more than one output chunk (measured here: 1 of 16 one-token responses at
concurrency 4); for a one-token stage (a prefill run) the request latency is read as the
TTFT: the first token is the last, so the two differ by the final chunk only (stated in the
run's source). A stage with ``load_summary.concurrency`` is
closed loop at that concurrency; otherwise open loop at ``requested_rate``, Poisson or constant
as ``config.yaml`` says (unknown without it). ``summary_lifecycle_metrics.json`` pools every
stage and is refused: give the stage files.
"""

from __future__ import annotations

import math
from typing import Any

from pdplan.errors import ConfigError
from pdplan.measured.runs import BenchRun, ReportedStats, finite, nearly_fixed, reading

__all__ = ["is_inference_perf", "load_type", "read_inference_perf"]


def is_inference_perf(obj: object) -> bool:
    """A lifecycle report: ``load_summary``, ``successes`` and ``benchmark_time_seconds``.

    >>> is_inference_perf({"load_summary": {}, "successes": {}, "benchmark_time_seconds": 1})
    True
    """
    return isinstance(obj, dict) and all(
        k in obj for k in ("load_summary", "successes", "benchmark_time_seconds")
    )


def load_type(config_text: str | None) -> str | None:
    """``load.type`` of an inference-perf ``config.yaml`` (None when absent or unreadable)."""
    if not config_text:
        return None
    import yaml

    try:
        config = yaml.safe_load(config_text)
    except yaml.YAMLError:
        return None
    kind = (config.get("load") or {}).get("type") if isinstance(config, dict) else None
    return kind if isinstance(kind, str) else None


def _stats(latency: dict[str, Any], name: str, where: str) -> ReportedStats | None:
    summary = latency.get(name)
    if not isinstance(summary, dict) or not isinstance(summary.get("mean"), int | float):
        return None
    with reading(where, f"successes.latency.{name}"):
        return ReportedStats(
            mean=float(summary["mean"]),
            p50=finite(summary.get("median")),
            p90=finite(summary.get("p90")),
            p99=finite(summary.get("p99")),
        )


def read_inference_perf(obj: dict[str, Any], source: str, config: str | None = None) -> BenchRun:
    """One stage report as a run.

    :raises ConfigError: naming the field when one is missing, or for the pooled summary
    """
    load = obj["load_summary"] if isinstance(obj["load_summary"], dict) else {}
    if "requested_rate" not in load:
        raise ConfigError(
            f"{source}: a summary pooled over every stage (no load_summary.requested_rate): "
            "give the stage_<N>_lifecycle_metrics.json files, one run each"
        )
    ok = obj["successes"]
    try:
        count = int(ok["count"])
        duration = float(obj["benchmark_time_seconds"])
        prompt, output = ok["prompt_tokens"], ok["output_tokens"]
        isl, osl = float(prompt["mean"]), float(output["mean"])
        latency = ok["latency"]
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{source}: missing or invalid field {exc}") from None
    if count <= 0:
        raise ConfigError(f"{source}: no successful request: nothing to import")
    if not 0 < duration < math.inf:
        raise ConfigError(f"{source}: benchmark_time_seconds must be > 0")
    concurrency = load.get("concurrency")
    closed = isinstance(concurrency, int) and concurrency > 0
    rate = load.get("requested_rate")
    if not closed and not (isinstance(rate, int | float) and rate > 0):
        raise ConfigError(f"{source}: load_summary.requested_rate must be > 0, got {rate!r}")
    kind = load_type(config)
    ttft_name, where = "time_to_first_token", source
    if osl <= 1.5:  # its TTFT covers only the responses that came in two chunks or more
        ttft_name = "request_latency"
        where = f"{source} (TTFT: the request latency of one-token responses)"
    ttft = _stats(latency, ttft_name, source)
    failed = obj.get("failures") or {}

    def spread(d: dict[str, Any]) -> float:
        low, high = d.get("min"), d.get("max")
        if isinstance(low, int | float) and isinstance(high, int | float):
            return (high - low) / 4  # range / 4 bounds the std
        return math.inf

    throughput = ok.get("throughput") or {}
    return BenchRun(
        tool="inference-perf",
        source=where,
        isl_tokens=isl,
        osl_tokens=osl,
        fixed_lengths=all(nearly_fixed(float(d["mean"]), spread(d)) for d in (prompt, output)),
        rate_rps=None if closed or rate is None else float(rate),
        arrival_scv=None if closed else {"poisson": 1.0, "constant": 0.0}.get(kind or ""),
        concurrency=concurrency if closed else None,
        duration_s=duration,
        requests=count,
        failed=int(failed.get("count") or 0),
        input_tps=float(throughput.get("input_tokens_per_sec", isl * count / duration)),
        output_tps=float(throughput.get("output_tokens_per_sec", osl * count / duration)),
        achieved_rps=count / duration,
        ttft_s=ttft,
        tpot_s=None if osl <= 1.5 else _stats(latency, "time_per_output_token", source),
        ttft_field=f"latency.{ttft_name} (s)",
        tpot_field="latency.time_per_output_token (s)",
    )
