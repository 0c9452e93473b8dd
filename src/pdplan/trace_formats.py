"""Readers of request-trace formats, detected from the file's first line. Pure: they take the
file's lines (``pdplan.io`` opens the file) and return a :class:`~pdplan.schema.trace.Trace`.

- ``pdplan`` CSV: a header with ``arrival_s,isl_tokens,osl_tokens`` (seconds, tokens);
- ``azure`` CSV, the Azure LLM inference traces of 2023 and 2024: a header
  ``TIMESTAMP,ContextTokens,GeneratedTokens`` (wall-clock time, input and output tokens);
- ``mooncake`` JSONL: objects with ``timestamp`` (ms), ``input_length``, ``output_length``
  and ``hash_ids`` (kept: one id per 512-token prompt block);
- ``vllm-bench`` JSON, from ``vllm bench serve --save-result --save-detailed``:
  ``start_times`` (s), ``input_lens``, ``output_lens`` per request (failed ones left out).

Every problem is one :class:`~pdplan.errors.ConfigError` line naming the file, the line and
the field. ``slice_s`` keeps the requests in ``[start, end)`` seconds after the first one (the
trace's own clock, before any time scaling), so a slice of a huge trace never holds the rest.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from itertools import chain
from typing import Any, Literal

from pdplan.errors import ConfigError
from pdplan.schema.lengths import MAX_TOKENS
from pdplan.schema.trace import MAX_TRACE_REQUESTS, Trace
from pdplan.strict import DuplicateKeyError, strict_json

__all__ = [
    "FORMATS",
    "MAX_TRACE_REQUESTS",
    "TraceFormat",
    "detect_format",
    "parse_trace",
    "unit_warning",
]

#: Mooncake's prompts are hashed in blocks of this many tokens, one hash id each.
MOONCAKE_BLOCK_TOKENS = 512

TraceFormat = Literal["pdplan", "azure", "mooncake", "vllm-bench"]
FORMATS: tuple[str, ...] = ("pdplan", "azure", "mooncake", "vllm-bench")
_ALLOWED = (
    "a pdplan CSV (arrival_s,isl_tokens,osl_tokens), an Azure LLM inference CSV "
    "(TIMESTAMP,ContextTokens,GeneratedTokens), Mooncake JSONL (timestamp, input_length, "
    "output_length[, hash_ids]) or vllm bench serve --save-result --save-detailed JSON"
)
_PDPLAN = ("arrival_s", "isl_tokens", "osl_tokens")
_AZURE = ("timestamp", "contexttokens", "generatedtokens")


class _Rows:
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


def _number(where: str, field: str, text: Any) -> float:
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


def _tokens(where: str, field: str, text: Any) -> int:
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


def detect_format(first_line: str, source: str) -> TraceFormat:
    """The format a trace's first non-empty line announces.

    >>> detect_format("arrival_s,isl_tokens,osl_tokens", "t.csv")
    'pdplan'
    >>> detect_format("TIMESTAMP,ContextTokens,GeneratedTokens", "t.csv")
    'azure'
    >>> detect_format('{"timestamp": 0, "input_length": 5, "output_length": 2}', "t.jsonl")
    'mooncake'
    """
    stripped = first_line.strip().lstrip("\ufeff")
    if stripped.startswith(("{", "[")):
        try:
            item = strict_json(stripped)
        except json.JSONDecodeError:
            return "vllm-bench"  # a JSON document over several lines
        if isinstance(item, dict) and {"timestamp", "input_length", "output_length"} <= set(item):
            return "mooncake"
        return "vllm-bench"
    header = [h.strip().lower() for h in next(csv.reader([stripped]))]
    if set(_PDPLAN) <= set(header):
        return "pdplan"
    if set(_AZURE) <= set(header):
        return "azure"
    raise ConfigError(
        f"{source}:1: not a trace format pdplan reads (first line {stripped[:80]!r}); "
        f"expected {_ALLOWED}"
    )


def parse_trace(
    lines: Iterable[str],
    source: str,
    *,
    slice_s: tuple[float, float] | None = None,
    max_requests: int = MAX_TRACE_REQUESTS,
) -> Trace:
    """Detect the format from the first non-empty line and read the whole trace (refused,
    as soon as it is seen, past ``max_requests`` kept requests).

    >>> t = parse_trace(["arrival_s,isl_tokens,osl_tokens", "0,100,10", "0.5,200,20"], "t.csv")
    >>> t.fmt, len(t), t.arrival_s
    ('pdplan', 2, (0.0, 0.5))
    """
    try:
        return _parse(iter(lines), source, slice_s, max_requests)
    except csv.Error as exc:
        raise ConfigError(f"{source}: not a readable CSV file ({exc})") from None


def _parse(
    it: Iterator[str], source: str, slice_s: tuple[float, float] | None, max_requests: int
) -> Trace:
    for first in it:
        if first.strip():
            break
    else:
        raise ConfigError(f"{source}: the trace is empty")
    fmt = detect_format(first, source)
    rows = _Rows(source, slice_s, max_requests)
    all_lines = chain([first], it)
    if fmt == "pdplan":
        return _csv(all_lines, rows, _PDPLAN, _pdplan_row, "pdplan")
    if fmt == "azure":
        return _csv(all_lines, rows, _AZURE, _azure_row(), "azure")
    if fmt == "mooncake":
        return _mooncake(all_lines, rows)
    return _vllm_bench("".join(all_lines), rows)


def _csv(lines: Iterator[str], rows: _Rows, needed: tuple[str, ...], row: Any, fmt: Any) -> Trace:
    reader = csv.reader(lines)
    header = [h.strip().lstrip("\ufeff").lower() for h in next(reader)]
    for name in needed:
        if header.count(name) > 1:
            raise ConfigError(
                f"{rows.source}:1: the column {name!r} appears {header.count(name)} times in the "
                "header; which one holds the values is a guess pdplan does not make: keep one"
            )
    col = {name: header.index(name) for name in needed}
    width = max(col.values()) + 1
    for values in reader:
        line = reader.line_num
        if not values or all(not v.strip() for v in values):
            continue
        where = f"{rows.source}:{line}"
        if len(values) < width:
            missing = [n for n, i in col.items() if i >= len(values)]
            raise ConfigError(f"{where}: missing field(s) {', '.join(missing)}")
        t, isl, osl = row(where, *(values[col[n]] for n in needed))
        rows.add(where, t, isl, osl)
    return rows.trace(fmt)


def _pdplan_row(where: str, t: str, isl: str, osl: str) -> tuple[float, int, int]:
    return (
        _number(where, "arrival_s", t),
        _tokens(where, "isl_tokens", isl),
        _tokens(where, "osl_tokens", osl),
    )


def _azure_row() -> Any:
    def parse(where: str, stamp: str, isl: str, osl: str) -> tuple[float, int, int]:
        try:
            when = datetime.fromisoformat(stamp.strip())
        except ValueError:
            raise ConfigError(
                f"{where}: TIMESTAMP: cannot read {stamp!r} as a date and time "
                "(expected e.g. 2023-11-16 18:15:46.6805900)"
            ) from None
        if when.tzinfo is None:  # the 2023 traces carry no zone, the 2024 ones +00:00
            when = when.replace(tzinfo=UTC)
        return (
            when.timestamp(),
            _tokens(where, "ContextTokens", isl),
            _tokens(where, "GeneratedTokens", osl),
        )

    return parse


def _mooncake(lines: Iterator[str], rows: _Rows) -> Trace:
    any_hashes = False
    for line, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        where = f"{rows.source}:{line}"
        try:
            item = strict_json(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{where}: not a JSON object ({exc.msg})") from None
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: expected a JSON object, got {type(item).__name__}")
        missing = [k for k in ("timestamp", "input_length", "output_length") if k not in item]
        if missing:
            raise ConfigError(f"{where}: missing field(s) {', '.join(missing)}")
        hashes = item.get("hash_ids", [])
        if not isinstance(hashes, list) or not all(
            isinstance(h, int) and not isinstance(h, bool) for h in hashes
        ):
            raise ConfigError(f"{where}: hash_ids: expected a list of integers")
        any_hashes = any_hashes or "hash_ids" in item
        isl = _tokens(where, "input_length", item["input_length"])
        blocks = -(-isl // MOONCAKE_BLOCK_TOKENS)
        if "hash_ids" in item and len(hashes) < blocks:
            raise ConfigError(
                f"{where}: hash_ids: {len(hashes)} id(s) do not cover an input_length of "
                f"{isl:,} tokens, which takes {blocks} (one per {MOONCAKE_BLOCK_TOKENS}-token "
                "block): the prefix reuse read from them would be wrong"
            )
        rows.add(
            where,
            _number(where, "timestamp", item["timestamp"]) / 1000.0,  # milliseconds
            isl,
            _tokens(where, "output_length", item["output_length"]),
            tuple(hashes),
        )
    return rows.trace("mooncake", with_hashes=any_hashes)


def _vllm_bench(text: str, rows: _Rows) -> Trace:
    source = rows.source
    try:
        doc = strict_json(text)
    except DuplicateKeyError as exc:
        raise ConfigError(f"{source}: {exc.msg}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{source}:{exc.lineno}: not JSON ({exc.msg}); expected {_ALLOWED}"
        ) from None
    if not isinstance(doc, dict) or ("input_lens" not in doc and "start_times" not in doc):
        raise ConfigError(f"{source}: not a trace format pdplan reads; expected {_ALLOWED}")
    fields = ("start_times", "input_lens", "output_lens")
    missing = [f for f in fields if not isinstance(doc.get(f), list)]
    if missing:
        raise ConfigError(
            f"{source}: vllm bench serve result without {', '.join(missing)}: save it with "
            "--save-result --save-detailed to keep the per-request times and lengths"
        )
    starts, isls, osls = (doc[f] for f in fields)
    errors = doc.get("errors") or [""] * len(starts)
    if not len(starts) == len(isls) == len(osls) == len(errors):
        raise ConfigError(f"{source}: start_times, input_lens, output_lens differ in length")
    # Send stamps of concurrent tasks; a request that failed produced no tokens: left out.
    kept = sorted(
        (
            _number(f"{source}: request {i}", "start_times", starts[i]),
            _tokens(f"{source}: request {i}", "input_lens", isls[i]),
            _tokens(f"{source}: request {i}", "output_lens", osls[i]),
        )
        for i in range(len(starts))
        if not errors[i]
    )
    for i, (t, isl, osl) in enumerate(kept):
        rows.add(f"{source}: request {i}", t, isl, osl)
    return rows.trace("vllm-bench")


#: A Mooncake trace faster than this on average was most likely written in seconds.
_MOONCAKE_FAST_RPS = 1000.0


def unit_warning(trace: Trace) -> str | None:
    """A warning when a trace's times look written in another unit than its format's: a
    Mooncake trace (milliseconds) whose stamps have fractions of a millisecond or whose mean
    rate is beyond any one deployment, as seconds would be; None when nothing looks off.

    >>> seconds = Trace((0.0, 0.0015, 0.003), (5, 5, 5), (1, 1, 1), None, "m.jsonl", "mooncake")
    >>> unit_warning(seconds)[:60]
    'm.jsonl: timestamp is in milliseconds in the Mooncake format'
    >>> unit_warning(Trace((0.0, 3.0, 6.0), (5, 5, 5), (1, 1, 1), None, "m.jsonl", "mooncake"))
    """
    if trace.fmt != "mooncake" or len(trace) < 2:
        return None
    fractional = any(abs(t * 1000 - round(t * 1000)) > 1e-6 for t in trace.arrival_s)
    rate = (len(trace) - 1) / trace.span_s if trace.span_s > 0 else math.inf
    if not fractional and rate <= _MOONCAKE_FAST_RPS:
        return None
    why = "stamps with fractions of a millisecond" if fractional else "a mean rate that fast"
    return (
        f"{trace.source}: timestamp is in milliseconds in the Mooncake format, but these look "
        f"like seconds ({why}: read as ms, the trace runs at {rate:,.4g} req/s over "
        f"{trace.span_s:.4g} s); if they are seconds, multiply them by 1000"
    )
