"""Read an engine's Prometheus ``/metrics``: the engine's own view, to check ours against.

:func:`parse_metrics` is pure: the text exposition format in, ``{sample_name: value}`` out,
summed over label sets (``vllm:prompt_tokens_total``, ``..._seconds_sum``, ``..._count``).
"""

from __future__ import annotations

import math

from pdplan.bench.client import EngineClient

__all__ = ["delta", "fetch_metrics", "parse_metrics"]


def parse_metrics(text: str) -> dict[str, float]:
    """Sum every sample over its labels.

    >>> parse_metrics('a_total{x="1"} 2\\na_total{x="2"} 3\\n# HELP b\\nb 1.5\\n')
    {'a_total': 5.0, 'b': 1.5}
    """
    totals: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name_part, _, rest = line.rpartition("}") if "}" in line else ("", "", line)
        if name_part:
            name = name_part.split("{", 1)[0]
            value_text = rest.split()[0]
        else:
            fields = line.split()
            if len(fields) < 2:
                continue
            name, value_text = fields[0], fields[1]
        try:
            value = float(value_text)
        except ValueError:
            continue
        if math.isfinite(value):
            totals[name] = totals.get(name, 0.0) + value
    return totals


def delta(before: dict[str, float], after: dict[str, float], name: str) -> float:
    """after[name] - before[name], missing samples counting as 0."""
    return after.get(name, 0.0) - before.get(name, 0.0)


async def fetch_metrics(client: EngineClient) -> dict[str, float]:
    """The engine's ``/metrics``, parsed."""
    return parse_metrics(await client.get_text("/metrics"))
