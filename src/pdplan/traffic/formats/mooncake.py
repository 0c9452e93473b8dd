"""Mooncake's JSONL trace (FAST'25): ``timestamp`` (ms), ``input_length``, ``output_length``
and ``hash_ids`` (one id per 512-token prompt block; equal ids are the same prefix), and the
warning for stamps that look written in seconds. Pure."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator

from pdplan.errors import ConfigError
from pdplan.schema.trace import Trace
from pdplan.strict import strict_json
from pdplan.traffic.formats.rows import Rows, number, tokens

__all__ = ["MOONCAKE_BLOCK_TOKENS", "read_mooncake", "unit_warning"]

#: Mooncake's prompts are hashed in blocks of this many tokens, one hash id each.
MOONCAKE_BLOCK_TOKENS = 512


def read_mooncake(lines: Iterator[str], rows: Rows) -> Trace:
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
        isl = tokens(where, "input_length", item["input_length"])
        blocks = -(-isl // MOONCAKE_BLOCK_TOKENS)
        if "hash_ids" in item and len(hashes) < blocks:
            raise ConfigError(
                f"{where}: hash_ids: {len(hashes)} id(s) do not cover an input_length of "
                f"{isl:,} tokens, which takes {blocks} (one per {MOONCAKE_BLOCK_TOKENS}-token "
                "block): the prefix reuse read from them would be wrong"
            )
        rows.add(
            where,
            number(where, "timestamp", item["timestamp"]) / 1000.0,  # milliseconds
            isl,
            tokens(where, "output_length", item["output_length"]),
            tuple(hashes),
        )
    return rows.trace("mooncake", with_hashes=any_hashes)


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
