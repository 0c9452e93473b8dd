"""What every trace reader shares: the rows it keeps (sorted, sliced, bounded), and the
fields it reads (a time in seconds, a whole number of tokens), each refused in one line naming
the file, the line and the field. Pure."""

from __future__ import annotations

import math
from typing import Any, Literal

from pdplan.errors import ConfigError
from pdplan.schema.lengths import MAX_TOKENS
from pdplan.schema.trace import Trace

__all__ = ["ALLOWED", "Rows", "TraceFormat", "number", "tokens"]

TraceFormat = Literal["pdplan", "azure", "mooncake", "vllm-bench"]
ALLOWED = (
    "a pdplan CSV (arrival_s,isl_tokens,osl_tokens), an Azure LLM inference CSV "
    "(TIMESTAMP,ContextTokens,GeneratedTokens), Mooncake JSONL (timestamp, input_length, "
    "output_length[, hash_ids]) or vllm bench serve --save-result --save-detailed JSON"
)


class Rows:
    """Accumulates requests, keeping those inside the slice."""

    def __init__(self, source: str, slice_s: tuple[float, float] | None, max_requests: int) -> None:
        self.source = source
        self.slice_s = slice_s
        self.max_requests = max_requests
        self.t0: float | None = None
        self.times: list[float] = []
        self.isl: list[int] = []
        self.osl: list[int] = []
        self.hashes: list[tuple[int, ...]] = []
        self.previous = -math.inf
        self.previous_where = ""

    def add(self, where: str, t: float, isl: int, osl: int, hashes: tuple[int, ...] = ()) -> None:
        if t < self.previous:
            raise ConfigError(
                f"{where}: arrival time {t:.6g} s is before the previous request's "
                f"({self.previous:.6g} s at {self.previous_where}); a trace must be sorted by "
                "arrival time"
            )
        self.previous, self.previous_where = t, where
        if self.t0 is None:
            self.t0 = t
        if self.slice_s is not None and not self.slice_s[0] <= t - self.t0 < self.slice_s[1]:
            return
        if len(self.times) >= self.max_requests:
            raise ConfigError(
                f"{where}: the trace holds more than {self.max_requests:,} requests, the most "
                "pdplan replays: take a part of it with --trace-slice START:END (seconds)"
            )
        self.times.append(t)
        self.isl.append(isl)
        self.osl.append(osl)
        self.hashes.append(hashes)

    def trace(self, fmt: TraceFormat, with_hashes: bool = False) -> Trace:
        if not self.times:
            if self.t0 is None:
                raise ConfigError(f"{self.source}: the trace has no requests")
            lo, hi = self.slice_s or (0.0, math.inf)
            raise ConfigError(
                f"{self.source}: the slice {lo:g}:{hi:g} s holds no request (the trace spans "
                f"0:{self.previous - self.t0:.6g} s from its first request)"
            )
        first = self.times[0]
        return Trace(
            tuple(t - first for t in self.times),
            tuple(self.isl),
            tuple(self.osl),
            tuple(self.hashes) if with_hashes else None,
            self.source,
            fmt,
        )


def number(where: str, field: str, text: Any) -> float:
    if isinstance(text, bool):
        raise ConfigError(f"{where}: {field}: expected a number, got {text!r}")
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: {field}: expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise ConfigError(f"{where}: {field}: expected a finite number, got {text!r}")
    if value < 0:
        raise ConfigError(f"{where}: {field}: must be >= 0, got {text!r}")
    return value


def tokens(where: str, field: str, text: Any) -> int:
    try:
        value = float(text) if not isinstance(text, bool) else math.nan
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value) or value != int(value) or not 1 <= value <= MAX_TOKENS:
        raise ConfigError(
            f"{where}: {field}: expected a whole number of tokens in 1..{MAX_TOKENS:,}, "
            f"got {text!r}"
        )
    return int(value)
