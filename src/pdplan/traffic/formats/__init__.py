"""Readers of request-trace formats, detected from the file's first line. Pure: they take the
file's lines (``pdplan.io`` opens the file) and return a :class:`~pdplan.schema.trace.Trace`.

- ``pdplan`` CSV: a header with ``arrival_s,isl_tokens,osl_tokens`` (seconds, tokens);
- ``azure`` CSV, the Azure LLM inference traces of 2023 and 2024: a header
  ``TIMESTAMP,ContextTokens,GeneratedTokens`` (wall-clock time, input and output tokens);
- ``mooncake`` JSONL: objects with ``timestamp`` (ms), ``input_length``, ``output_length``
  and ``hash_ids`` (kept: one id per 512-token prompt block);
- ``vllm-bench`` JSON, from ``vllm bench serve --save-result --save-detailed``:
  ``start_times`` (s), ``input_lens``, ``output_lens`` per request (failed ones left out).

One module per format (:mod:`~pdplan.traffic.formats.csv_formats` for pdplan's and Azure's
CSV, :mod:`~pdplan.traffic.formats.mooncake`, :mod:`~pdplan.traffic.formats.vllm_bench`),
what they share in :mod:`~pdplan.traffic.formats.rows`. Every problem is one
:class:`~pdplan.errors.ConfigError` line naming the file, the line and
the field. ``slice_s`` keeps the requests in ``[start, end)`` seconds after the first one (the
trace's own clock, before any time scaling), so a slice of a huge trace never holds the rest.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from itertools import chain

from pdplan.errors import ConfigError
from pdplan.schema.trace import MAX_TRACE_REQUESTS, Trace
from pdplan.strict import strict_json
from pdplan.traffic.formats.csv_formats import AZURE, PDPLAN, read_azure, read_pdplan
from pdplan.traffic.formats.mooncake import read_mooncake, unit_warning
from pdplan.traffic.formats.rows import ALLOWED, Rows, TraceFormat
from pdplan.traffic.formats.vllm_bench import read_vllm_bench

__all__ = ["FORMATS", "TraceFormat", "detect_format", "parse_trace", "unit_warning"]

FORMATS: tuple[str, ...] = ("pdplan", "azure", "mooncake", "vllm-bench")


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
    if set(PDPLAN) <= set(header):
        return "pdplan"
    if set(AZURE) <= set(header):
        return "azure"
    raise ConfigError(
        f"{source}:1: not a trace format pdplan reads (first line {stripped[:80]!r}); "
        f"expected {ALLOWED}"
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
    rows = Rows(source, slice_s, max_requests)
    all_lines = chain([first], it)
    if fmt == "pdplan":
        return read_pdplan(all_lines, rows)
    if fmt == "azure":
        return read_azure(all_lines, rows)
    if fmt == "mooncake":
        return read_mooncake(all_lines, rows)
    return read_vllm_bench("".join(all_lines), rows)
