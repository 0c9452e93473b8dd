"""``vllm bench serve --save-result`` JSON and SGLang ``bench_serving --output-file`` JSONL
(one result object per line): the same shape, as SGLang's script began as vLLM's. Pure: parsed
JSON in, :class:`~pdplan.measured.runs.BenchRun` out.

Both report TTFT and TPOT (excluding the first token) in ms, as a mean and the percentiles
given to ``--metric-percentiles`` (default: p99 only); ``--save-detailed`` (SGLang:
``--output-details``) adds the per-request lists, from which every percentile follows. The
README's "Import benchmark results" table gives the field mapping.
"""

from __future__ import annotations

import math
from typing import Any

from pdplan.errors import ConfigError
from pdplan.measured.runs import BenchRun, ReportedStats, Tool, nearly_fixed, reading

__all__ = ["is_vllm_result", "read_vllm_result"]

_KEYS = ("duration", "completed", "total_input_tokens", "total_output_tokens")


def is_vllm_result(obj: object) -> bool:
    """A result object of either tool: the totals and a TTFT mean in ms.

    >>> is_vllm_result({"duration": 1, "completed": 1, "total_input_tokens": 1,
    ...                 "total_output_tokens": 1, "mean_ttft_ms": 1.0})
    True
    """
    return isinstance(obj, dict) and all(k in obj for k in _KEYS) and "mean_ttft_ms" in obj


def _number(obj: dict[str, Any], key: str, where: str) -> float:
    value = obj.get(key)
    if isinstance(value, str) and value.lower() in ("inf", "infinity"):
        return math.inf
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ConfigError(f"{where}: {key} must be a number, got {value!r}")
    return float(value)


def _count(obj: dict[str, Any], key: str, source: str) -> int:
    """A count the file may leave out (0), else a whole number >= 0."""
    value = obj.get(key) or 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{source}: {key} must be a whole number >= 0, got {value!r}")
    return value


def _reported(obj: dict[str, Any], name: str, count: int, source: str) -> ReportedStats | None:
    mean = obj.get(f"mean_{name}_ms")
    if not isinstance(mean, int | float) or isinstance(mean, bool):
        return None
    percentiles = {}
    for key, field in (("p50", "p50"), ("median", "p50"), ("p90", "p90"), ("p99", "p99")):
        value = obj.get(f"{key}_{name}_ms")
        if isinstance(value, int | float) and not isinstance(value, bool):
            percentiles[field] = value / 1000
    with reading(source, f"mean_{name}_ms and its percentiles"):
        return ReportedStats(count=count or None, mean=mean / 1000, **percentiles)


def _detailed(
    obj: dict[str, Any], source: str
) -> tuple[ReportedStats | None, ReportedStats | None] | None:
    """TTFT and TPOT from the per-request lists of ``--save-detailed`` / ``--output-details``
    (successful requests: an empty ``error``)."""
    ttfts, lat, outs = obj.get("ttfts"), obj.get("latencies"), obj.get("output_lens")
    if not (isinstance(ttfts, list) and isinstance(outs, list) and len(ttfts) == len(outs)):
        return None
    errors = obj.get("errors") or [""] * len(ttfts)
    ok = [i for i in range(len(ttfts)) if not errors[i] and isinstance(ttfts[i], int | float)]
    with reading(source, "ttfts (s)"):
        ttft = ReportedStats.of([float(ttfts[i]) for i in ok if ttfts[i] > 0])
    tpot = None
    if isinstance(lat, list) and len(lat) == len(ttfts):
        with reading(source, "latencies, ttfts (s)"):
            tpot = ReportedStats.of(
                [
                    (lat[i] - ttfts[i]) / (outs[i] - 1)
                    for i in ok
                    if isinstance(outs[i], int) and outs[i] > 1
                ]
            )
    return ttft, tpot


def _mean_std(values: list[Any]) -> tuple[float, float]:
    numbers = [float(v) for v in values if isinstance(v, int | float)]
    if not numbers:
        return 1.0, math.inf
    mean = sum(numbers) / len(numbers)
    return mean, math.sqrt(sum((v - mean) ** 2 for v in numbers) / len(numbers))


def read_vllm_result(obj: dict[str, Any], source: str, tool: Tool = "vllm-bench") -> BenchRun:
    """One result object as a run.

    :raises ConfigError: naming the field when a number is missing or not a number
    """
    completed = int(_number(obj, "completed", source))
    if completed <= 0:
        raise ConfigError(
            f"{source}: no completed request (completed = {completed}): nothing to import"
        )
    duration = _number(obj, "duration", source)
    if not 0 < duration < math.inf:
        raise ConfigError(f"{source}: duration must be > 0 s, got {obj.get('duration')!r}")
    total_in = _number(obj, "total_input_tokens", source)
    total_out = _number(obj, "total_output_tokens", source)
    rate = _number(obj, "request_rate", source) if "request_rate" in obj else math.inf
    burst = obj.get("burstiness")
    concurrency = obj.get("max_concurrency")
    ins, outs = obj.get("input_lens"), obj.get("output_lens")
    fixed = None
    if isinstance(ins, list) and isinstance(outs, list) and ins and outs:
        fixed = all(nearly_fixed(*_mean_std(v)) for v in (ins, outs))
    detailed = _detailed(obj, source)
    # SGLang records TTFT 0 for a response whose first chunk had no text (2 of 16 one-token
    # responses here) and averages them in; the per-request values are read without them.
    zeros = sum(1 for t in obj.get("ttfts") or [] if t == 0) if detailed else 0
    ttft, tpot = detailed if detailed else (None, None)
    ttft_field = "ttfts (s)" if ttft else "mean_ttft_ms and its percentiles"
    tpot_field = "latencies, ttfts (s)" if tpot else "mean_tpot_ms and its percentiles"
    ttft = ttft or _reported(obj, "ttft", completed, source)
    tpot = tpot or _reported(obj, "tpot", completed, source)
    if tpot is not None and total_out / completed <= 1.5:
        tpot = None  # one output token: no time between tokens (the tools print 0)
    open_loop = math.isfinite(rate) and rate > 0
    return BenchRun(
        tool=tool,
        source=source if not zeros else f"{source} ({zeros} TTFT(s) of 0 dropped)",
        model=obj.get("model_id") if isinstance(obj.get("model_id"), str) else None,
        isl_tokens=total_in / completed,
        osl_tokens=total_out / completed,
        fixed_lengths=fixed,
        rate_rps=rate if open_loop else None,
        arrival_scv=(
            1 / float(burst)
            if open_loop and isinstance(burst, int | float) and burst > 0
            else (1.0 if open_loop else None)
        ),
        concurrency=int(concurrency) if isinstance(concurrency, int) and concurrency > 0 else None,
        duration_s=duration,
        requests=completed,
        failed=_count(obj, "failed", source),
        input_tps=total_in / duration,
        output_tps=total_out / duration,
        achieved_rps=completed / duration,
        ttft_s=ttft,
        tpot_s=tpot,
        ttft_field=ttft_field,
        tpot_field=tpot_field,
    )
