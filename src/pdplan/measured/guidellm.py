"""guidellm ``benchmarks.json`` (``guidellm run --output kind=json``, report version 2): one
run per benchmark (one per rate or concurrency of the profile). Pure: parsed JSON in,
:class:`~pdplan.measured.runs.BenchRun` out.

guidellm reports every metric as a distribution of the successful requests
(``metrics.<name>.successful``: mean, count, ``percentiles.p50/p90/p99``); latencies in ms
(``*_ms``), ``request_latency`` in s. TPOT is ``inter_token_latency_ms`` (the gaps after the
first token, weighted by token); ``time_per_output_token_ms`` includes the first token and is
not read. The strategy gives the load: ``synchronous`` (concurrency 1), ``concurrent``
(``streams``), ``throughput`` (``max_concurrency``), ``constant`` and ``poisson`` (``rate``).
"""

from __future__ import annotations

import math
from typing import Any

from pdplan.errors import ConfigError
from pdplan.measured.runs import BenchRun, ReportedStats, finite, nearly_fixed, reading

__all__ = ["is_guidellm", "read_guidellm"]


def is_guidellm(obj: object) -> bool:
    """A guidellm report: ``benchmarks`` of ``generative_benchmark`` objects.

    >>> is_guidellm({"benchmarks": [{"type_": "generative_benchmark"}]})
    True
    """
    if not isinstance(obj, dict) or not isinstance(obj.get("benchmarks"), list):
        return False
    return any(isinstance(b, dict) and b.get("type_") == "generative_benchmark"
               for b in obj["benchmarks"])  # fmt: skip


def _successful(metrics: dict[str, Any], name: str, where: str) -> dict[str, Any] | None:
    entry = metrics.get(name)
    if entry is None:
        return None
    ok = entry.get("successful") if isinstance(entry, dict) else None
    if not isinstance(ok, dict):
        raise ConfigError(f"{where}: metrics.{name}.successful must be an object")
    return ok


def _stats(
    metrics: dict[str, Any], name: str, where: str, scale: float = 1e-3
) -> ReportedStats | None:
    """A metric's successful-request summary (in its unit, ms) in seconds; None when empty."""
    with reading(where, f"metrics.{name}.successful"):
        return _summary(_successful(metrics, name, where), scale)


def _summary(summary: dict[str, Any] | None, scale: float) -> ReportedStats | None:
    if not summary or not summary.get("count"):
        return None
    pct = summary.get("percentiles") or {}

    def value(key: str) -> float | None:
        v = finite(pct.get(key))
        return None if v is None else v * scale

    return ReportedStats(
        count=int(summary["count"]),
        mean=float(summary["mean"]) * scale,
        p50=value("p50"),
        p90=value("p90"),
        p99=value("p99"),
    )


def _load(strategy: dict[str, Any], where: str) -> tuple[float | None, float | None, int | None]:
    """(rate, arrival SCV, concurrency) of a strategy."""
    kind = strategy.get("type_")
    if kind == "synchronous":
        return None, None, 1
    if kind == "concurrent":
        return None, None, int(strategy["streams"])
    if kind == "throughput":
        return None, None, strategy.get("max_concurrency")
    if kind in ("constant", "poisson"):
        rate = strategy.get("rate")
        if not isinstance(rate, int | float) or not rate > 0:
            raise ConfigError(f"{where}: config.strategy.rate must be > 0, got {rate!r}")
        return float(rate), (0.0 if kind == "constant" else 1.0), None
    raise ConfigError(
        f"{where}: config.strategy.type_ {kind!r} is not read; expected synchronous, "
        "concurrent, throughput, constant or poisson"
    )


def read_guidellm(obj: dict[str, Any], source: str) -> list[BenchRun]:
    """Every benchmark of the report with a successful request, as a run.

    :raises ConfigError: naming the benchmark and the field when one is missing
    """
    runs = []
    for i, bench in enumerate(obj["benchmarks"]):
        where = f"{source} benchmark {i + 1}"
        try:
            metrics = bench["metrics"]
            totals = metrics["request_totals"]
            ok, errored = int(totals["successful"]), int(totals.get("errored") or 0)
            duration = float(bench["duration"])
            rate, scv, concurrency = _load(bench["config"]["strategy"], where)
            prompt = _successful(metrics, "prompt_token_count", where)
            output = _successful(metrics, "output_token_count", where)
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: missing or invalid field {exc}") from None
        if ok <= 0 or not prompt or not output:
            continue
        if not 0 < duration < math.inf:
            raise ConfigError(f"{where}: duration must be > 0 s, got {bench['duration']!r}")
        isl, osl = float(prompt["mean"]), float(output["mean"])
        tpot = _stats(metrics, "inter_token_latency_ms", where)
        runs.append(
            BenchRun(
                tool="guidellm",
                source=f"{where} ({bench['config']['strategy'].get('type_')})",
                isl_tokens=isl,
                osl_tokens=osl,
                fixed_lengths=all(
                    nearly_fixed(float(d["mean"]), float(d.get("std_dev") or 0))
                    for d in (prompt, output)
                ),
                rate_rps=rate,
                arrival_scv=scv,
                concurrency=concurrency,
                duration_s=duration,
                requests=ok,
                failed=errored,
                input_tps=float(prompt.get("total_sum", isl * ok)) / duration,
                output_tps=float(output.get("total_sum", osl * ok)) / duration,
                achieved_rps=ok / duration,
                ttft_s=_stats(metrics, "time_to_first_token_ms", where),
                tpot_s=None if osl <= 1.5 else tpot,
                ttft_field="time_to_first_token_ms",
                tpot_field="inter_token_latency_ms",
            )
        )
    if not runs:
        raise ConfigError(f"{source}: no guidellm benchmark with a successful request")
    return runs
