"""One benchmark run of another tool (or of ``pdplan loadtest``), normalized: what was sent
(the lengths, an open-loop rate or a closed-loop concurrency) and what came back (TTFT and
TPOT summaries, throughput), in pdplan's units. Every reader (:mod:`pdplan.measured.readers`)
produces these, and everything downstream (profile parts, ``compare``) reads only these. Pure.

Units: seconds for TTFT and TPOT, tokens/s for throughput. TPOT is the time between output
tokens after the first, ``(latency - TTFT) / (output tokens - 1)``: vLLM's and SGLang's
``tpot``, guidellm's ``inter_token_latency``, aiperf's ``inter_token_latency``. A tool's
``time_per_output_token`` that includes the first token is not this TPOT and is not read.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pdplan.quantiles import Distribution, Stat
from pdplan.schema.profile import MIN_TPOT_MS

__all__ = [
    "FIXED_SPREAD",
    "MIN_TPOT_S",
    "BenchRun",
    "ReportedStats",
    "Tool",
    "check_plausible",
    "finite",
    "nearly_fixed",
    "reading",
]

#: Lengths whose standard deviation is at most this share of their mean count as fixed: the
#: tools' "fixed" random prompts re-tokenize to a token or two more (vLLM's random dataset at
#: range ratio 0 sent 256-258 input tokens for 256).
FIXED_SPREAD = 0.02


def finite(value: Any) -> float | None:
    """A finite number, or None (strings, booleans, NaN, inf): how the readers take a value
    a tool may have left out or written as text.

    >>> finite(2), finite("2"), finite(True), finite(float("nan"))
    (2.0, None, None, None)
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def nearly_fixed(mean: float, std: float) -> bool:
    """Fixed lengths up to :data:`FIXED_SPREAD`.

    >>> nearly_fixed(256.5, 0.8), nearly_fixed(300, 60)
    (True, False)
    """
    return std <= FIXED_SPREAD * mean


@contextmanager
def reading(where: str, field: str) -> Iterator[None]:
    """Values read from ``field`` of the file ``where``: a value pdplan refuses (a negative
    latency, a count that is not a number) is one line naming both.

    >>> with reading("r.json", "mean_ttft_ms"):
    ...     ReportedStats(mean=-3.0)
    Traceback (most recent call last):
    pdplan.errors.ConfigError: r.json: mean_ttft_ms: mean: Input should be greater than or ...
    """
    from pdplan.errors import ConfigError, PdplanError

    try:
        yield
    except PdplanError:
        raise
    except ValidationError as exc:
        item = exc.errors()[0]
        stat = ".".join(str(part) for part in item["loc"])
        message = str(item["msg"]).removeprefix("Value error, ")
        raise ConfigError(
            f"{where}: {field}: {stat + ': ' if stat else ''}{message} (got {item.get('input')!r})"
        ) from None
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ConfigError(f"{where}: {field}: not the value the format holds ({exc})") from None


Tool = Literal["vllm-bench", "sglang-bench", "guidellm", "aiperf", "inference-perf", "pdplan"]

_CONFIG = ConfigDict(extra="forbid", frozen=True)


class ReportedStats(BaseModel):
    """A statistic's summary as a tool reported it: the mean, and the percentiles it chose to
    report (the others are unknown, not computed). Not a :class:`Distribution` because of
    those gaps; :meth:`distribution` gives one when nothing is missing.

    >>> s = ReportedStats(count=10, mean=0.5, p50=0.4, p99=1.2)
    >>> s.stat("p99"), s.stat("p90"), s.distribution() is None
    (1.2, None, True)
    """

    model_config = _CONFIG
    count: int | None = Field(None, ge=1, description="values behind it, when known")
    mean: float = Field(ge=0, allow_inf_nan=False)
    p50: float | None = Field(None, ge=0, allow_inf_nan=False)
    p90: float | None = Field(None, ge=0, allow_inf_nan=False)
    p99: float | None = Field(None, ge=0, allow_inf_nan=False)

    @classmethod
    def of(cls, values: list[float]) -> ReportedStats | None:
        """From the per-request values (a detailed export): every percentile known."""
        dist = Distribution.of(values)
        return None if dist is None else cls(**dist.model_dump(exclude={"max"}))

    def stat(self, name: Stat) -> float | None:
        """The statistic, or None when the tool did not report it."""
        value: float | None = getattr(self, name)
        return value

    def distribution(self) -> Distribution | None:
        """A :class:`Distribution` when the count and every percentile are known."""
        if self.count is None or None in (self.p50, self.p90, self.p99):
            return None
        return Distribution(**self.model_dump())


class BenchRun(BaseModel):
    """One run (one rate or one concurrency) of a benchmark client against an endpoint."""

    model_config = _CONFIG
    tool: Tool
    source: str = Field(description="the file (and the run inside it) this came from")
    model: str | None = Field(None, description="served model id, when the file names it")
    isl_tokens: float = Field(gt=0, description="mean input tokens per request")
    osl_tokens: float = Field(gt=0, description="mean output tokens per request")
    fixed_lengths: bool | None = Field(
        None, description="every request had the same ISL and OSL (None: the file cannot tell)"
    )
    rate_rps: float | None = Field(
        None, gt=0, description="open loop: the scheduled request rate (None: closed loop)"
    )
    arrival_scv: float | None = Field(
        None, ge=0, description="open loop: inter-arrival SCV (1 Poisson; gamma 1/burstiness)"
    )
    concurrency: int | None = Field(None, ge=1, description="closed loop: requests in flight")
    duration_s: float = Field(gt=0)
    requests: int = Field(ge=0, description="successful requests")
    failed: int = Field(0, ge=0)
    input_tps: float = Field(ge=0, description="input tokens/s over the run")
    output_tps: float = Field(ge=0, description="output tokens/s over the run")
    achieved_rps: float = Field(ge=0, description="successful requests/s over the run")
    ttft_s: ReportedStats | None = None
    tpot_s: ReportedStats | None = None
    ttft_field: str = Field("TTFT", description="the file's field the TTFT came from, and its unit")
    tpot_field: str = Field("TPOT", description="the file's field the TPOT came from, and its unit")

    @property
    def open_loop(self) -> bool:
        return self.rate_rps is not None

    @property
    def prefill_only(self) -> bool:
        """One output token per request (at most 1.5 on average): the run measures prefill."""
        return self.osl_tokens <= 1.5


#: The fastest TPOT pdplan takes for a measurement (:data:`pdplan.schema.profile.MIN_TPOT_MS`).
MIN_TPOT_S = MIN_TPOT_MS / 1e3
#: A value may exceed what the run allows by this factor before it is refused: clocks,
#: ramp-up and rounding stay far inside it; a value in the wrong unit (ms read as s) lies
#: a thousand times outside.
_SLACK = 2.0
#: A closed loop keeps its requests in flight; a mean latency that keeps fewer than this
#: share of the concurrency busy (Little's law) is a latency in the wrong unit.
_MIN_BUSY = 0.02


def check_plausible(run: BenchRun) -> None:
    """Refuse a run whose latencies cannot be what the run measured (a value in the wrong
    unit, or a corrupt file): a TTFT or a request's decode longer than the whole run, a
    closed loop whose latencies put more requests in flight than its concurrency (Little's
    law) or leave it nearly idle, a TPOT faster than the run's own output tok/s allows.

    :raises ConfigError: naming the run, the field, the value and the bound

    >>> r = BenchRun(tool="vllm-bench", source="c4.json", isl_tokens=512, osl_tokens=1,
    ...              concurrency=4, duration_s=5, requests=100, input_tps=10240,
    ...              output_tps=20, achieved_rps=20, ttft_s=ReportedStats(mean=287.0),
    ...              ttft_field="ttfts (s)")
    >>> check_plausible(r)
    Traceback (most recent call last):
    pdplan.errors.ConfigError: c4.json: ttfts (s): a mean TTFT of 287 s is longer than the ...
    """
    from pdplan.errors import ConfigError

    def refuse(field: str, what: str) -> ConfigError:
        return ConfigError(
            f"{run.source}: {field}: {what}: the values are not in the unit the format uses "
            "(ms read as s, or s as ms?) or the file is corrupt"
        )

    ttft, tpot = run.ttft_s, run.tpot_s
    if ttft is not None:
        stat, worst = _largest(ttft)
        if worst > _SLACK * run.duration_s:
            raise refuse(
                run.ttft_field,
                f"a {stat} TTFT of {worst:.4g} s is longer than the whole run "
                f"({run.duration_s:.4g} s)",
            )
    if tpot is not None and 0 < tpot.mean < MIN_TPOT_S:
        raise refuse(
            run.tpot_field,
            f"a mean TPOT of {tpot.mean * 1e3:.3g} ms is {1 / tpot.mean:,.0f} tok/s per "
            f"sequence, faster than any engine generates (TPOT >= {MIN_TPOT_S * 1e3:g} ms)",
        )
    if tpot is not None:
        stat, worst = _largest(tpot)
        tokens = max(run.osl_tokens - 1, 1)
        if worst * tokens > _SLACK * run.duration_s:
            raise refuse(
                run.tpot_field,
                f"a {stat} TPOT of {worst * 1e3:.4g} ms over {tokens:.0f} tokens is "
                f"{worst * tokens:.4g} s of decode, longer than the whole run "
                f"({run.duration_s:.4g} s)",
            )
    if run.concurrency is None or run.achieved_rps <= 0:
        return
    latency = (ttft.mean if ttft else 0.0) + (
        tpot.mean * max(run.osl_tokens - 1, 0) if tpot else 0.0
    )
    in_flight = run.achieved_rps * latency  # Little's law
    field = run.ttft_field if ttft else run.tpot_field
    if in_flight > _SLACK * run.concurrency + 1:
        raise refuse(
            field,
            f"{run.achieved_rps:.4g} req/s at a mean latency of {latency:.4g} s keep "
            f"{in_flight:,.4g} requests in flight, at concurrency {run.concurrency}",
        )
    if (ttft or tpot) and in_flight < _MIN_BUSY * run.concurrency:
        raise refuse(
            field,
            f"{run.achieved_rps:.4g} req/s at a mean latency of {latency:.4g} s keep "
            f"{in_flight:.3g} requests in flight, at concurrency {run.concurrency}",
        )
    if tpot and tpot.mean > 0 and run.output_tps > 0:
        ceiling = run.concurrency / tpot.mean  # every sequence one token per TPOT
        if ceiling > run.output_tps * 10 * _SLACK:
            raise refuse(
                run.tpot_field,
                f"a mean TPOT of {tpot.mean * 1e3:.4g} ms lets {run.concurrency} sequences "
                f"generate {ceiling:,.0f} tok/s, but the run measured {run.output_tps:,.0f}",
            )


def _largest(stats: ReportedStats) -> tuple[str, float]:
    """The largest statistic reported, and its name."""
    known = [(n, getattr(stats, n)) for n in ("p99", "p90", "p50", "mean")]
    return max(((n, v) for n, v in known if v is not None), key=lambda nv: nv[1])
