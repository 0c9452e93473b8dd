"""Which tool wrote a benchmark file, and its runs. Pure: the file's text in, runs out.

Detected from the content, not the name:

- ``vllm bench serve --save-result`` (one JSON object; ``--append-result``: one per line);
- SGLang ``bench_serving --output-file`` (JSON lines; told from vLLM's by its
  ``input_throughput`` and ``mean_e2e_latency_ms``);
- guidellm ``benchmarks.json`` (:mod:`pdplan.measured.guidellm`);
- aiperf ``profile_export_aiperf.json`` (:mod:`pdplan.measured.aiperf`);
- inference-perf ``stage_<N>_lifecycle_metrics.json`` (:mod:`pdplan.measured.inference_perf`);
- ``pdplan loadtest --json`` output.
"""

from __future__ import annotations

import json
from typing import Any

from pdplan.errors import ConfigError
from pdplan.measured.runs import BenchRun, ReportedStats, Tool, check_plausible, reading
from pdplan.measured.vllm_bench import is_vllm_result, read_vllm_result
from pdplan.strict import DuplicateKeyError, strict_json

__all__ = ["parse_bench_file"]


def _json_objects(text: str, source: str) -> list[Any]:
    """The file as one JSON value, or as JSON lines."""
    try:
        return [strict_json(text)]
    except DuplicateKeyError as exc:
        raise ConfigError(f"{source}: {exc.msg}") from None
    except json.JSONDecodeError:
        pass
    values = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            values.append(strict_json(line))
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{source}: line {number} is not JSON ({exc.msg}): expected a benchmark result "
                "file (vllm bench serve, SGLang bench_serving, guidellm, aiperf, "
                "inference-perf or pdplan loadtest --json)"
            ) from None
    if not values:
        raise ConfigError(f"{source}: the file is empty")
    return values


def _is_sglang(obj: dict[str, Any]) -> bool:
    return "input_throughput" in obj or "mean_e2e_latency_ms" in obj


def _loadtest_runs(obj: dict[str, Any], source: str) -> list[BenchRun]:
    """``pdplan loadtest --json``: one run per step at the offered rate."""
    workload = obj.get("workload") or {}
    try:
        isl = float(workload["isl"]["mean_tokens"])
        osl = float(workload["osl"]["mean_tokens"])
    except (KeyError, TypeError, ValueError):
        raise ConfigError(f"{source}: workload.isl/osl.mean_tokens missing") from None
    runs = []
    for i, step in enumerate(obj["steps"]):
        where = f"{source} step {i + 1} (x{step.get('multiplier')})"
        ok = int(step.get("requests", 0)) - int(step.get("failed", 0))
        rate = float(step.get("offered_rps") or 0)
        if ok <= 0 or rate <= 0:
            continue
        duration = max(int(step["requests"]) - 1, 1) / rate
        total_tps = float(step.get("achieved_total_tps") or 0)
        ttft, tpot = step.get("ttft_s"), step.get("tpot_s")
        runs.append(
            BenchRun(
                tool="pdplan",
                source=where,
                isl_tokens=isl,
                osl_tokens=osl,
                fixed_lengths=workload["isl"].get("kind") == "fixed"
                and workload["osl"].get("kind") == "fixed",
                rate_rps=rate,
                arrival_scv=float((workload.get("arrivals") or {}).get("scv", 1.0)),
                duration_s=duration,
                requests=ok,
                failed=int(step.get("failed", 0)),
                input_tps=total_tps * isl / (isl + osl),
                output_tps=total_tps * osl / (isl + osl),
                achieved_rps=float(step.get("achieved_rps") or 0),
                ttft_s=_stats(ttft, where, "ttft_s"),
                tpot_s=_stats(tpot, where, "tpot_s"),
                ttft_field="ttft_s",
                tpot_field="tpot_s",
            )
        )
    return runs


def _stats(value: Any, where: str, field: str) -> ReportedStats | None:
    if not value:
        return None
    with reading(where, field):
        return ReportedStats(**value)


def parse_bench_file(text: str, source: str, beside: str | None = None) -> list[BenchRun]:
    """Every run in the file (see the module docstring for the formats); ``beside``: the file
    the tool wrote next to it, when present (aiperf's per-request ``profile_export.jsonl``,
    inference-perf's ``config.yaml``).

    >>> one = ('{"duration": 10, "completed": 100, "total_input_tokens": 51200, '
    ...        '"total_output_tokens": 100, "request_rate": "inf", "max_concurrency": 4, '
    ...        '"mean_ttft_ms": 120.0, "p99_ttft_ms": 300.0}')
    >>> (run,) = parse_bench_file(one, "c4.json")
    >>> run.tool, run.isl_tokens, run.concurrency, run.input_tps, run.ttft_s.mean
    ('vllm-bench', 512.0, 4, 5120.0, 0.12)
    """
    with reading(source, "the run"):  # a value no reader expected: the file named
        runs = _parse(text, source, beside)
    for run in runs:
        check_plausible(run)
    return runs


def _parse(text: str, source: str, beside: str | None) -> list[BenchRun]:
    from pdplan.measured import aiperf, guidellm, inference_perf

    values = _json_objects(text, source)
    first = values[0]
    if all(is_vllm_result(v) for v in values):
        tool: Tool = "sglang-bench" if _is_sglang(first) else "vllm-bench"
        return [
            read_vllm_result(v, source if len(values) == 1 else f"{source}:{i + 1}", tool)
            for i, v in enumerate(values)
        ]
    if len(values) == 1 and isinstance(first, dict):
        if isinstance(first.get("steps"), list) and "workload" in first:
            return _loadtest_runs(first, source)
        if guidellm.is_guidellm(first):
            return guidellm.read_guidellm(first, source)
        if aiperf.is_aiperf(first):
            return [aiperf.read_aiperf(first, source, beside)]
        if inference_perf.is_inference_perf(first):
            return [inference_perf.read_inference_perf(first, source, beside)]
    raise ConfigError(
        f"{source}: not a benchmark result pdplan reads; expected vllm bench serve "
        "--save-result JSON, SGLang bench_serving --output-file JSONL, guidellm benchmarks.json, "
        "aiperf profile_export_aiperf.json, an inference-perf report or pdplan loadtest --json"
    )
