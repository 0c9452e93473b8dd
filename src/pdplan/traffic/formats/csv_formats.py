"""The CSV traces: pdplan's own (``arrival_s,isl_tokens,osl_tokens``, seconds and tokens)
and the Azure LLM inference traces of 2023 and 2024 (``TIMESTAMP,ContextTokens,
GeneratedTokens``: a wall-clock time, input and output tokens). Pure."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from pdplan.errors import ConfigError
from pdplan.schema.trace import Trace
from pdplan.traffic.formats.rows import Rows, TraceFormat, number, tokens

__all__ = ["AZURE", "PDPLAN", "read_azure", "read_pdplan"]

PDPLAN = ("arrival_s", "isl_tokens", "osl_tokens")
AZURE = ("timestamp", "contexttokens", "generatedtokens")


def read_pdplan(lines: Iterator[str], rows: Rows) -> Trace:
    """pdplan's CSV."""
    return _csv(lines, rows, PDPLAN, _pdplan_row, "pdplan")


def read_azure(lines: Iterator[str], rows: Rows) -> Trace:
    """The Azure LLM inference CSV."""
    return _csv(lines, rows, AZURE, _azure_row(), "azure")


def _csv(
    lines: Iterator[str], rows: Rows, needed: tuple[str, ...], row: Any, fmt: TraceFormat
) -> Trace:
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
        number(where, "arrival_s", t),
        tokens(where, "isl_tokens", isl),
        tokens(where, "osl_tokens", osl),
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
            tokens(where, "ContextTokens", isl),
            tokens(where, "GeneratedTokens", osl),
        )

    return parse
