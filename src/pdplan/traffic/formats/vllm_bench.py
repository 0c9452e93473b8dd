"""``vllm bench serve --save-result --save-detailed`` JSON as a trace: ``start_times`` (s, the
client's send stamps), ``input_lens`` and ``output_lens`` per request; failed requests (an
``errors`` entry) are left out. Pure."""

from __future__ import annotations

import json

from pdplan.errors import ConfigError
from pdplan.schema.trace import Trace
from pdplan.strict import DuplicateKeyError, strict_json
from pdplan.traffic.formats.rows import ALLOWED, Rows, number, tokens

__all__ = ["read_vllm_bench"]


def read_vllm_bench(text: str, rows: Rows) -> Trace:
    source = rows.source
    try:
        doc = strict_json(text)
    except DuplicateKeyError as exc:
        raise ConfigError(f"{source}: {exc.msg}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{source}:{exc.lineno}: not JSON ({exc.msg}); expected {ALLOWED}"
        ) from None
    if not isinstance(doc, dict) or ("input_lens" not in doc and "start_times" not in doc):
        raise ConfigError(f"{source}: not a trace format pdplan reads; expected {ALLOWED}")
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
            number(f"{source}: request {i}", "start_times", starts[i]),
            tokens(f"{source}: request {i}", "input_lens", isls[i]),
            tokens(f"{source}: request {i}", "output_lens", osls[i]),
        )
        for i in range(len(starts))
        if not errors[i]
    )
    for i, (t, isl, osl) in enumerate(kept):
        rows.add(f"{source}: request {i}", t, isl, osl)
    return rows.trace("vllm-bench")
