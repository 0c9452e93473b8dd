"""Fuzzing the parsers: whatever text, numbers or documents come in, the only exception that
escapes is a PdplanError (the CLI's one clean line), and what is accepted is a sane value."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pdplan import SLO, Workload, size
from pdplan.engine.overrides import parse_decode_table
from pdplan.errors import PdplanError
from pdplan.io import load_profile, parse_profile
from pdplan.schema.arrivals import parse_arrivals_spec
from pdplan.schema.lengths import parse_length_spec
from pdplan.sim.sweep import parse_allocations
from pdplan.traffic.formats import parse_trace
from pdplan.units import parse_count, parse_duration_s, parse_rps, parse_tpm, parse_tps

DATA = Path(__file__).parent / "data"
PROFILE: dict[str, Any] = yaml.safe_load((DATA / "small-profile.yaml").read_text())

unit_text = st.one_of(
    st.text(max_size=30),
    st.builds(
        lambda n, u: f"{n}{u}",
        st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers()),
        st.sampled_from(["", "s", "ms", "us", "min", "h", "k", "M", "G", "B", "TPM", " tok/s"]),
    ),
)
leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
document = st.recursive(
    leaf,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(unit_text)
def test_unit_parsers_return_a_finite_positive_number_or_refuse(text: str) -> None:
    for parse in (parse_duration_s, parse_tpm, parse_tps, parse_rps, parse_count):
        try:
            value = parse(text)
        except PdplanError:
            continue
        assert math.isfinite(value) and value > 0


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40), st.integers(min_value=1, max_value=10**7))
def test_spec_parsers_only_raise_pdplan_errors(text: str, mean: int) -> None:
    for parse in (
        lambda t: parse_length_spec(t, mean, "--isl-dist"),
        parse_arrivals_spec,
        parse_decode_table,
        parse_allocations,
    ):
        with contextlib.suppress(PdplanError):
            parse(text)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        return [prefix] + [p for k, v in node.items() for p in _paths(v, (*prefix, k))]
    if isinstance(node, list):
        return [prefix] + [p for i, v in enumerate(node) for p in _paths(v, (*prefix, i))]
    return [prefix]


PATHS = _paths(PROFILE)[1:]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(PATHS), document)
def test_a_profile_with_any_field_replaced_is_valid_or_refused(
    path: tuple[Any, ...], value: Any
) -> None:
    data = copy.deepcopy(PROFILE)
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    try:
        profile = parse_profile(data, "fuzz.yaml")
    except PdplanError:
        return
    # an accepted profile plans to finite numbers, or refuses the plan with a reason
    workload = Workload.from_rps(rate_rps=5.0, isl_tokens=2000, osl_tokens=250)
    try:
        plan = size(profile, workload, SLO(ttft_s=2.0, tpot_s=0.05))
    except PdplanError:
        return
    a = plan.allocation
    assert 1 <= a.prefill_instances <= 10_000 and 1 <= a.decode_instances <= 10_000
    assert math.isfinite(a.max_total_tps) and a.max_total_tps > 0
    json.dumps(plan.model_dump(mode="json"), allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(document)
def test_any_document_as_a_profile_is_refused_cleanly(data: Any) -> None:
    with contextlib.suppress(PdplanError):
        parse_profile(data, "fuzz.yaml")


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=300), st.sampled_from([".yaml", ".json", ".yml"]))
def test_any_bytes_as_a_profile_file_are_refused_cleanly(
    tmp_path: Path, raw: bytes, suffix: str
) -> None:
    path = tmp_path / f"p{suffix}"
    path.write_bytes(raw)
    with contextlib.suppress(PdplanError):
        load_profile(path)


row_value = st.one_of(
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8),
)
headers = st.sampled_from(
    [
        "arrival_s,isl_tokens,osl_tokens",
        "TIMESTAMP,ContextTokens,GeneratedTokens",
        "TIMESTAMP,ContextTokens",
        "",
    ]
)


@settings(max_examples=300, deadline=None)
@given(headers, st.lists(st.lists(row_value, min_size=0, max_size=4), max_size=8))
def test_csv_traces_with_any_rows_parse_or_refuse(header: str, rows: list[list[str]]) -> None:
    text = header + "\n" + "\n".join(",".join(r) for r in rows)
    try:
        trace = parse_trace(io.StringIO(text), "fuzz.csv")
    except PdplanError:
        return
    assert len(trace) >= 1
    assert all(math.isfinite(t) for t in trace.arrival_s)
    assert list(trace.arrival_s) == sorted(trace.arrival_s)
    assert min(trace.isl_tokens) >= 1 and min(trace.osl_tokens) >= 1


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["timestamp", "input_length", "output_length", "hash_ids", "x"]),
            document,
            max_size=5,
        ),
        max_size=6,
    )
)
def test_jsonl_traces_with_any_rows_parse_or_refuse(rows: list[dict[str, Any]]) -> None:
    text = "\n".join(json.dumps(r, default=str) for r in rows)
    with contextlib.suppress(PdplanError):
        parse_trace(io.StringIO(text), "fuzz.jsonl")


IMPORTS = DATA / "imports"
IMPORT_FILES = sorted(
    [
        *IMPORTS.glob("vllm-bench/*.json"),
        *IMPORTS.glob("guidellm/*.json"),
        *IMPORTS.glob("aiperf/*/profile_export_aiperf.json"),
        *IMPORTS.glob("inference-perf/*/stage_*_lifecycle_metrics.json"),
    ]
)
IMPORT_DOCS = {p: json.loads(p.read_text(encoding="utf-8")) for p in IMPORT_FILES}
IMPORT_PATHS = [(p, path) for p in IMPORT_FILES for path in _paths(IMPORT_DOCS[p])[1:]]


def _replaced(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    data = copy.deepcopy(doc)
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(IMPORT_PATHS), document)
def test_a_benchmark_file_with_any_field_replaced_imports_or_refuses_cleanly(
    where: tuple[Path, tuple[Any, ...]], value: Any
) -> None:
    """Every importer, on files the real tools wrote with one field replaced by anything: a
    PdplanError naming the file, or runs whose latencies and rates are finite and >= 0, and
    profile parts built from them."""
    from pdplan.measured.formats import parse_bench_file
    from pdplan.measured.to_profile import parts_from_runs

    source, path = where
    text = json.dumps(_replaced(IMPORT_DOCS[source], path, value), default=str)
    beside = source.with_name("profile_export.jsonl")
    companion = beside.read_text(encoding="utf-8") if beside.is_file() else None
    try:
        runs = parse_bench_file(text, source.name, companion)
        parts_from_runs(runs)
    except PdplanError as exc:
        assert source.name in str(exc) or "benchmark" in str(exc), exc
        return
    for run in runs:
        numbers = [run.duration_s, run.input_tps, run.output_tps, run.achieved_rps]
        for stats in (run.ttft_s, run.tpot_s):
            if stats is not None:
                numbers += [
                    v for v in (stats.mean, stats.p50, stats.p90, stats.p99) if v is not None
                ]
        assert all(math.isfinite(v) and v >= 0 for v in numbers), run


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.sampled_from([p for p in IMPORT_PATHS if p[0].parent.name == "vllm-bench"]), document)
def test_pdplan_import_refuses_without_writing_or_writes_a_finite_profile(
    tmp_path_factory: pytest.TempPathFactory, where: tuple[Path, tuple[Any, ...]], value: Any
) -> None:
    from pdplan.cli import main

    tmp = tmp_path_factory.mktemp("import")
    source, path = where
    bad = tmp / source.name
    bad.write_text(json.dumps(_replaced(IMPORT_DOCS[source], path, value), default=str))
    others = [str(p) for p in sorted(source.parent.glob("*.json")) if p != source]
    out, stdout, stderr = tmp / "out", io.StringIO(), io.StringIO()
    with (
        contextlib.redirect_stdout(stdout),
        contextlib.redirect_stderr(stderr),
        pytest.raises(SystemExit) as info,
    ):
        main(["import", str(bad), *others, "--out", str(out), "--json"])
    err = stderr.getvalue()
    if info.value.code:
        assert not out.exists(), err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
        assert "InternalError" not in err, err
        return
    json.loads(stdout.getvalue(), parse_constant=lambda name: pytest.fail(f"{name} in the JSON"))
    if (out / "profile.yaml").exists():
        load_profile(out / "profile.yaml")


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(_paths(json.loads((DATA / "traces" / "vllm-bench.json").read_text()))[1:]),
       document)  # fmt: skip
def test_a_vllm_bench_trace_with_any_field_replaced_parses_or_refuses(
    path: tuple[Any, ...], value: Any
) -> None:
    doc = json.loads((DATA / "traces" / "vllm-bench.json").read_text())
    text = json.dumps(_replaced(doc, path, value), default=str)
    try:
        trace = parse_trace(io.StringIO(text), "fuzz.json")
    except PdplanError:
        return
    assert all(math.isfinite(t) and t >= 0 for t in trace.arrival_s)
    assert min(trace.isl_tokens) >= 1 and min(trace.osl_tokens) >= 1
