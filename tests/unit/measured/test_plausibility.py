"""Imported latencies in the wrong unit are refused with the field named: every file the real
tools wrote (tests/data/imports/) is read as written, then with its latency fields scaled by
1000 (ms read as s) or by 1/1000 (s written in an ms field), which must be refused alone or
beside the import's other runs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pdplan.errors import ConfigError
from pdplan.measured.formats import parse_bench_file
from pdplan.measured.runs import BenchRun
from pdplan.measured.to_profile import parts_from_runs

DATA = Path(__file__).parents[2] / "data" / "imports"
VLLM = DATA / "vllm-bench"
GUIDELLM = DATA / "guidellm"


def _scaled(obj: Any, factor: float, keep: Callable[[str], bool]) -> Any:
    """The JSON value with every number under a key that ``keep`` names scaled."""
    if isinstance(obj, dict):
        return {
            k: (_scaled_numbers(v, factor) if keep(k) else _scaled(v, factor, keep))
            for k, v in obj.items()
        }
    if isinstance(obj, list):
        return [_scaled(v, factor, keep) for v in obj]
    return obj


def _scaled_numbers(obj: Any, factor: float) -> Any:
    if isinstance(obj, bool):
        return obj
    if isinstance(obj, int | float):
        return obj * factor
    if isinstance(obj, dict):  # a summary: its count is not a latency
        return {k: v if k == "count" else _scaled_numbers(v, factor) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_scaled_numbers(v, factor) for v in obj]
    return obj


def _vllm_latency(key: str) -> bool:
    return key in ("ttfts", "latencies", "itls") or key.endswith(("_ttft_ms", "_tpot_ms"))


def _runs(path: Path, factor: float = 1.0) -> list[BenchRun]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    keep = _vllm_latency if path.parent == VLLM else _guidellm_latency
    text = json.dumps(_scaled(raw, factor, keep))
    return parse_bench_file(text, path.name)


def _guidellm_latency(key: str) -> bool:
    return key in ("time_to_first_token_ms", "inter_token_latency_ms", "request_latency")


FILES = sorted([*VLLM.glob("*.json"), *GUIDELLM.glob("*.json")])


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_real_files_are_plausible(path: Path) -> None:
    assert _runs(path)


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
@pytest.mark.parametrize("factor", [1000.0, 1e-3], ids=["ms-read-as-s", "s-in-ms-field"])
def test_latencies_in_the_wrong_unit_are_refused_naming_the_field(
    path: Path, factor: float
) -> None:
    """Alone (the run's own duration and Little's law), or beside the tool's other runs
    (TTFT against the prompt's compute and the idle TTFT)."""
    others = [run for p in sorted(path.parent.glob("*.json")) if p != path for run in _runs(p)]
    with pytest.raises(ConfigError) as info:
        parts_from_runs([*_runs(path, factor), *others])
    message = str(info.value)
    assert message.startswith(path.name), message
    assert "ttft" in message.lower() or "tpot" in message.lower() or "latency" in message
    assert "not in the unit" in message


def test_a_one_token_rate_sweep_in_seconds_is_refused_beside_its_idle_run() -> None:
    sweep = _runs(VLLM / "ttft-r20.json", 1e-3)
    tpmax = [r for p in sorted(VLLM.glob("tpmax-*.json")) for r in _runs(p)]
    with pytest.raises(ConfigError, match="shorter than the idle TTFT"):
        parts_from_runs([*sweep, *tpmax])


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        ({"total_input_tokens": -5}, "tpmax-c2.json: the run: isl_tokens"),
        ({"mean_ttft_ms": -3}, "tpmax-c2.json: mean_ttft_ms and its percentiles: mean"),
        ({"failed": "many"}, "tpmax-c2.json: failed must be a whole number >= 0, got 'many'"),
        ({"duration": "5s"}, "tpmax-c2.json: duration must be a number, got '5s'"),
    ],
)
def test_a_value_no_benchmark_writes_names_the_file_and_field(
    edit: dict[str, Any], needle: str
) -> None:
    raw = {**json.loads((VLLM / "tpmax-c2.json").read_text(encoding="utf-8")), **edit}
    with pytest.raises(ConfigError) as info:
        parse_bench_file(json.dumps(raw), "tpmax-c2.json")
    assert needle in str(info.value), info.value
