"""aiperf ``profile_export_aiperf.json`` (``aiperf profile``, schema 1.x), with the per-request
``profile_export.jsonl`` beside it where present. Pure: parsed JSON in,
:class:`~pdplan.measured.runs.BenchRun` out.

Every metric carries its unit (``{"unit": "ms", "avg": ..., "p50": ..., "p90": ..., "p99":
...}``); the unit is read, not assumed. TPOT is ``inter_token_latency`` (the gaps after the
first token); aiperf's ``time_to_second_token`` and throughput per user are not read. The load
is the profiling phase of ``input_config.phases``: ``concurrency``, or ``poisson`` / ``gamma``
(SCV ``1 / smoothness``) / ``constant`` at ``rate``. Failed requests are the counts of
``error_summary``. With the per-request records, TTFT and TPOT are summarized from them (the
successful requests of the profiling phase) instead of from aiperf's summary. Lengths are the
server's counts (``usage_prompt_tokens``, ``usage_completion_tokens``) where the file has
them, else aiperf's own ``input_sequence_length`` / ``output_sequence_length``.
"""

from __future__ import annotations

import json
import math
from typing import Any

from pdplan.errors import ConfigError
from pdplan.measured.runs import BenchRun, ReportedStats, finite, nearly_fixed, reading
from pdplan.strict import strict_json

__all__ = ["is_aiperf", "read_aiperf", "request_records"]

#: Seconds per unit of a time metric.
_TIME_UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0, "sec": 1.0}


def is_aiperf(obj: object) -> bool:
    """An aiperf summary: its version and a TTFT or request-count metric.

    >>> is_aiperf({"aiperf_version": "0.13.0", "request_count": {"unit": "requests", "avg": 3}})
    True
    """
    return isinstance(obj, dict) and "aiperf_version" in obj and "request_count" in obj


def _metric(obj: dict[str, Any], name: str, where: str) -> dict[str, Any] | None:
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("avg"), int | float):
        raise ConfigError(f"{where}: {name} must be an object with a numeric avg, got {value!r}")
    return value


def _scale(metric: dict[str, Any], name: str, where: str) -> float:
    unit = metric.get("unit")
    if unit not in _TIME_UNITS:
        raise ConfigError(
            f"{where}: {name}.unit {unit!r} is not a time unit pdplan reads "
            f"({', '.join(_TIME_UNITS)})"
        )
    return _TIME_UNITS[unit]


def _stats(obj: dict[str, Any], name: str, where: str) -> ReportedStats | None:
    metric = _metric(obj, name, where)
    if metric is None:
        return None
    scale = _scale(metric, name, where)

    def value(key: str) -> float | None:
        v = finite(metric.get(key))
        return None if v is None else v * scale

    count = metric.get("count")
    with reading(where, name):
        return ReportedStats(
            count=int(count) if isinstance(count, int) and count > 0 else None,
            mean=float(metric["avg"]) * scale,
            p50=value("p50"),
            p90=value("p90"),
            p99=value("p99"),
        )


def _avg(obj: dict[str, Any], name: str, where: str) -> float:
    metric = _metric(obj, name, where)
    if metric is None:
        raise ConfigError(f"{where}: {name} is missing")
    return float(metric["avg"])


def _load(obj: dict[str, Any], where: str) -> tuple[float | None, float | None, int | None]:
    """(rate, arrival SCV, concurrency) of the profiling phase."""
    phases = (obj.get("input_config") or {}).get("phases") or []
    profiling = [p for p in phases if isinstance(p, dict) and p.get("kind") == "profiling"]
    if not profiling:
        return None, None, None
    phase = profiling[0]
    kind = phase.get("type")
    if kind == "concurrency":
        c = phase.get("concurrency")
        return None, None, int(c) if isinstance(c, int) and c > 0 else None
    if kind in ("poisson", "gamma", "constant"):
        rate = phase.get("rate")
        if not isinstance(rate, int | float) or not rate > 0:
            raise ConfigError(f"{where}: input_config.phases rate must be > 0, got {rate!r}")
        scv = {"poisson": 1.0, "constant": 0.0}.get(kind)
        if kind == "gamma":
            smooth = phase.get("smoothness")
            scv = 1 / smooth if isinstance(smooth, int | float) and smooth > 0 else None
        return float(rate), scv, None
    raise ConfigError(
        f"{where}: the profiling phase's type {kind!r} is not read; expected concurrency, "
        "poisson, gamma or constant"
    )


def request_records(text: str, where: str) -> tuple[list[float], list[float]]:
    """TTFT and TPOT (s) of the successful profiling requests of ``profile_export.jsonl``."""
    ttfts: list[float] = []
    tpots: list[float] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = strict_json(line)
            meta, metrics = record.get("metadata") or {}, record.get("metrics") or {}
        except (json.JSONDecodeError, AttributeError):
            raise ConfigError(f"{where}: line {number} is not an aiperf record") from None
        if record.get("error") or meta.get("benchmark_phase", "profiling") != "profiling":
            continue
        for name, out in (("time_to_first_token", ttfts), ("inter_token_latency", tpots)):
            entry = metrics.get(name)
            if isinstance(entry, dict) and isinstance(entry.get("value"), int | float):
                out.append(entry["value"] * _scale(entry, name, f"{where} line {number}"))
    return ttfts, tpots


def read_aiperf(obj: dict[str, Any], source: str, records: str | None = None) -> BenchRun:
    """The run of one aiperf summary (and its per-request records, when given).

    :raises ConfigError: naming the field when one is missing or in an unknown unit
    """
    completed = int(_avg(obj, "request_count", source))
    if completed <= 0:
        raise ConfigError(f"{source}: no completed request (request_count 0): nothing to import")
    duration = _avg(obj, "benchmark_duration", source)
    duration *= _scale(obj["benchmark_duration"], "benchmark_duration", source)
    if not 0 < duration < math.inf:
        raise ConfigError(f"{source}: benchmark_duration must be > 0 s")
    # The server's token counts (usage_*) where given: aiperf's *_sequence_length re-tokenizes
    # the text it got back (measured here: 36.7 output tokens for 32 generated).
    isl_name = "usage_prompt_tokens" if "usage_prompt_tokens" in obj else "input_sequence_length"
    osl_name = (
        "usage_completion_tokens" if "usage_completion_tokens" in obj else "output_sequence_length"
    )
    isl, osl = _avg(obj, isl_name, source), _avg(obj, osl_name, source)
    fixed = all(
        nearly_fixed(float(obj[name]["avg"]), float(obj[name].get("std") or 0))
        for name in (isl_name, osl_name)
    )
    failed = sum(int(e.get("count") or 0) for e in obj.get("error_summary") or [])
    rate, scv, concurrency = _load(obj, source)
    ttft, tpot = (
        _stats(obj, "time_to_first_token", source),
        _stats(obj, "inter_token_latency", source),
    )
    if records is not None:
        ttfts, tpots = request_records(records, f"{source} records")
        with reading(f"{source} records", "time_to_first_token, inter_token_latency"):
            ttft, tpot = ReportedStats.of(ttfts) or ttft, ReportedStats.of(tpots) or tpot
    models = ((obj.get("input_config") or {}).get("models") or {}).get("items") or []
    model = models[0].get("name") if models and isinstance(models[0], dict) else None
    return BenchRun(
        tool="aiperf",
        source=source,
        model=model if isinstance(model, str) else None,
        isl_tokens=isl,
        osl_tokens=osl,
        fixed_lengths=fixed,
        rate_rps=rate,
        arrival_scv=scv,
        concurrency=concurrency,
        duration_s=duration,
        requests=completed,
        failed=failed,
        input_tps=isl * completed / duration,
        output_tps=osl * completed / duration,
        achieved_rps=completed / duration,
        ttft_s=ttft,
        tpot_s=None if osl <= 1.5 else tpot,
        ttft_field=f"time_to_first_token{' (records)' if records is not None else ''}",
        tpot_field=f"inter_token_latency{' (records)' if records is not None else ''}",
    )
