"""Benchmark readers on files the real tools wrote (tests/data/imports/<tool>/, with the
commands beside them): each field in pdplan's units, checked against the file's own numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pdplan.errors import ConfigError
from pdplan.io import load_bench_runs
from pdplan.measured.formats import parse_bench_file

DATA = Path(__file__).parents[2] / "data" / "imports"
VLLM = DATA / "vllm-bench"
AIPERF = DATA / "aiperf"


def _raw(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_every_fixture_names_the_commands_that_wrote_it() -> None:
    for tool in sorted(p for p in DATA.iterdir() if p.is_dir()):
        text = (tool / "COMMANDS.md").read_text(encoding="utf-8")
        assert "```" in text, tool


@pytest.mark.parametrize("name", sorted(p.name for p in VLLM.glob("*.json")))
def test_vllm_bench_files_read_in_seconds_and_tokens(name: str) -> None:
    raw = _raw(VLLM / name)
    (run,) = load_bench_runs(VLLM / name)
    assert run.tool == "vllm-bench"
    assert run.requests == raw["completed"]
    assert run.isl_tokens == pytest.approx(raw["total_input_tokens"] / raw["completed"])
    assert run.osl_tokens == pytest.approx(raw["total_output_tokens"] / raw["completed"])
    assert run.input_tps == pytest.approx(raw["total_input_tokens"] / raw["duration"])
    assert run.ttft_s is not None
    assert run.ttft_s.mean == pytest.approx(raw["mean_ttft_ms"] / 1000, rel=1e-6)
    assert run.ttft_s.p99 == pytest.approx(raw["p99_ttft_ms"] / 1000, rel=1e-6)
    # 256..258 tokens count as fixed; without --save-detailed the file cannot tell
    assert run.fixed_lengths is (True if "input_lens" in raw else None)
    if name.startswith(("tpmax", "decode")):
        assert run.rate_rps is None and run.concurrency == raw["max_concurrency"]
    else:
        assert run.rate_rps == raw["request_rate"] and run.arrival_scv == 1.0
    if raw["total_output_tokens"] == raw["completed"]:  # one output token
        assert run.prefill_only and run.tpot_s is None
    else:
        assert run.tpot_s is not None
        assert run.tpot_s.mean == pytest.approx(raw["mean_tpot_ms"] / 1000, rel=1e-6)


def test_vllm_detailed_lists_give_every_percentile() -> None:
    raw = _raw(VLLM / "ttft-r35.json")
    (run,) = load_bench_runs(VLLM / "ttft-r35.json")
    assert run.ttft_s is not None and run.ttft_s.distribution() is not None
    ttfts = sorted(raw["ttfts"])
    assert run.ttft_s.count == len(ttfts)
    assert ttfts[0] <= run.ttft_s.p50 <= run.ttft_s.p90 <= run.ttft_s.p99 <= ttfts[-1]  # type: ignore[operator]
    assert run.ttft_s.p90 == pytest.approx(raw["p90_ttft_ms"] / 1000, rel=0.02)


def _aiperf(name: str) -> Path:
    return AIPERF / name / "profile_export_aiperf.json"


@pytest.mark.parametrize(
    "name", sorted(p.parent.name for p in AIPERF.glob("*/profile_export_aiperf.json"))
)
def test_aiperf_summaries_read_by_their_units(name: str) -> None:
    raw = _raw(_aiperf(name))
    (run,) = load_bench_runs(_aiperf(name))
    assert run.tool == "aiperf" and run.model == "tiny-llama"
    assert raw["time_to_first_token"]["unit"] == "ms"
    assert run.requests == raw["request_count"]["avg"]
    assert run.failed == sum(e["count"] for e in raw["error_summary"])
    assert run.duration_s == pytest.approx(raw["benchmark_duration"]["avg"])  # unit "sec"
    # the server's token counts, not aiperf's re-tokenized ones
    assert run.osl_tokens == pytest.approx(raw["usage_completion_tokens"]["avg"])
    assert run.isl_tokens == pytest.approx(raw["usage_prompt_tokens"]["avg"])
    phase = raw["input_config"]["phases"][0]
    if phase["type"] == "concurrency":
        assert run.concurrency == phase["concurrency"] and run.rate_rps is None
    else:
        assert (phase["type"], run.rate_rps, run.arrival_scv) == ("poisson", phase["rate"], 1.0)
    # TTFT from the per-request records beside the summary: the same values
    assert run.ttft_s is not None and run.ttft_s.count == run.requests
    assert run.ttft_s.mean == pytest.approx(raw["time_to_first_token"]["avg"] / 1000, rel=1e-6)
    if run.osl_tokens > 1.5:
        assert run.tpot_s is not None
        assert run.tpot_s.mean == pytest.approx(raw["inter_token_latency"]["avg"] / 1000, rel=1e-6)
    else:
        assert run.tpot_s is None


def test_aiperf_units_are_read_not_assumed(tmp_path: Path) -> None:
    raw = _raw(_aiperf("decode-c1"))
    raw["time_to_first_token"] = {**raw["time_to_first_token"], "unit": "us"}
    raw["time_to_first_token"]["avg"] *= 1000
    (run,) = parse_bench_file(json.dumps(raw), "x.json")  # summary only: no records
    assert run.ttft_s is not None
    assert run.ttft_s.mean == pytest.approx(
        _raw(_aiperf("decode-c1"))["time_to_first_token"]["avg"] / 1000
    )
    raw["time_to_first_token"]["unit"] = "fortnights"
    with pytest.raises(ConfigError, match=r"time_to_first_token\.unit 'fortnights'"):
        parse_bench_file(json.dumps(raw), "x.json")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        ("{not json", "line 1 is not JSON"),
        ('{"hello": 1}', "not a benchmark result pdplan reads"),
        ('{"duration": 10, "completed": 0, "total_input_tokens": 0, "total_output_tokens": 0, '
         '"mean_ttft_ms": 1}', "no completed request"),
        ('{"duration": "x", "completed": 3, "total_input_tokens": 3, "total_output_tokens": 3, '
         '"mean_ttft_ms": 1}', "duration must be a number"),
        ('{"aiperf_version": "0.1", "request_count": {"unit": "requests", "avg": 3}}',
         "benchmark_duration is missing"),
        ('{"benchmarks": [{"type_": "generative_benchmark"}]}', "missing or invalid field"),
    ],
)  # fmt: skip
def test_bad_files_are_one_clear_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as info:
        load_bench_runs(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


INFPERF = DATA / "inference-perf"


@pytest.mark.parametrize(
    "path",
    sorted(str(p.relative_to(INFPERF)) for p in INFPERF.glob("*/stage_*_lifecycle_metrics.json")),
)
def test_inference_perf_stages_read_in_seconds(path: str) -> None:
    raw = _raw(INFPERF / path)
    (run,) = load_bench_runs(INFPERF / path)
    ok, load = raw["successes"], raw["load_summary"]
    assert run.tool == "inference-perf" and run.requests == ok["count"]
    assert run.duration_s == raw["benchmark_time_seconds"]
    assert run.isl_tokens == ok["prompt_tokens"]["mean"]
    assert run.input_tps == ok["throughput"]["input_tokens_per_sec"]
    latency = ok["latency"]
    assert run.ttft_s is not None
    if run.prefill_only:  # TTFT is given for multi-chunk responses only: latency instead
        assert run.ttft_s.mean == latency["request_latency"]["mean"] and run.tpot_s is None
        assert "request latency" in run.source
    else:
        assert run.ttft_s.mean == latency["time_to_first_token"]["mean"]
        assert run.tpot_s is not None
        # its time_per_output_token excludes the first token: pdplan's TPOT
        assert run.tpot_s.mean == latency["time_per_output_token"]["mean"]
    if "concurrency" in load:
        assert run.concurrency == load["concurrency"] and run.rate_rps is None
    else:  # the load type comes from config.yaml beside the stage files
        assert (run.rate_rps, run.arrival_scv) == (load["requested_rate"], 1.0)


def test_the_inference_perf_summary_pooled_over_stages_is_refused() -> None:
    with pytest.raises(ConfigError, match="pooled over every stage"):
        load_bench_runs(INFPERF / "ttft" / "summary_lifecycle_metrics.json")


GUIDELLM = DATA / "guidellm"


@pytest.mark.parametrize("name", sorted(p.name for p in GUIDELLM.glob("*.json")))
def test_guidellm_benchmarks_read_in_seconds(name: str) -> None:
    raw = _raw(GUIDELLM / name)
    runs = load_bench_runs(GUIDELLM / name)
    assert len(runs) == len(raw["benchmarks"])
    for run, bench in zip(runs, raw["benchmarks"], strict=True):
        metrics, strategy = bench["metrics"], bench["config"]["strategy"]
        ttft = metrics["time_to_first_token_ms"]["successful"]
        assert run.tool == "guidellm"
        assert run.requests == metrics["request_totals"]["successful"]
        assert run.duration_s == bench["duration"]
        assert run.isl_tokens == metrics["prompt_token_count"]["successful"]["mean"]
        assert run.ttft_s is not None
        assert run.ttft_s.mean == pytest.approx(ttft["mean"] / 1000)
        assert run.ttft_s.p90 == pytest.approx(ttft["percentiles"]["p90"] / 1000)
        if strategy["type_"] == "concurrent":
            assert run.concurrency == strategy["streams"] and run.rate_rps is None
        else:
            assert (strategy["type_"], run.rate_rps, run.arrival_scv) == (
                "poisson",
                strategy["rate"],
                1.0,
            )
        if run.osl_tokens > 1.5:  # inter_token_latency, not time_per_output_token
            itl = metrics["inter_token_latency_ms"]["successful"]
            assert run.tpot_s is not None and run.tpot_s.mean == pytest.approx(itl["mean"] / 1000)
        else:
            assert run.tpot_s is None


def test_a_run_that_did_not_hold_its_rate_is_no_sweep_point() -> None:
    from pdplan.measured.to_profile import parts_from_runs

    runs = load_bench_runs(GUIDELLM / "tpmax.json") + load_bench_runs(GUIDELLM / "ttft.json")
    got = parts_from_runs(runs)
    assert got.prefill is not None
    behind = [r for r in runs if r.rate_rps and abs(r.achieved_rps / r.rate_rps - 1) > 0.25]
    assert behind  # guidellm fell behind at 50 req/s on this machine
    assert len(got.prefill.ttft_vs_rate) == sum(1 for r in runs if r.rate_rps) - len(behind)
    assert any("did not hold the rate" in n for n in got.notes)


SGLANG = DATA / "sglang-bench" / "results.jsonl"


def test_sglang_bench_serving_lines_read_in_seconds() -> None:
    lines = [json.loads(x) for x in SGLANG.read_text(encoding="utf-8").splitlines() if x.strip()]
    runs = load_bench_runs(SGLANG)
    assert len(runs) == len(lines) >= 10
    for run, raw in zip(runs, lines, strict=True):
        assert run.tool == "sglang-bench"
        assert run.requests == raw["completed"]
        assert run.isl_tokens == pytest.approx(raw["total_input_tokens"] / raw["completed"])
        assert run.ttft_s is not None
        # SGLang writes TTFT 0 for responses whose first chunk had no text, and averages them
        # in; pdplan reads the per-request values without those
        ttfts = [t for t in raw["ttfts"] if t > 0]
        assert run.ttft_s.count == len(ttfts)
        assert run.ttft_s.mean == pytest.approx(sum(ttfts) / len(ttfts))
        zeros = len(raw["ttfts"]) - len(ttfts)
        assert (f"{zeros} TTFT(s) of 0 dropped" in run.source) == (zeros > 0)
        if not zeros:
            assert run.ttft_s.mean == pytest.approx(raw["mean_ttft_ms"] / 1000, rel=1e-6)
        if raw["request_rate"] == float("inf"):  # bare Infinity in SGLang's JSON
            assert run.rate_rps is None and run.concurrency == raw["max_concurrency"]
        else:
            assert run.rate_rps == raw["request_rate"]
        if run.osl_tokens > 1.5:
            assert run.tpot_s is not None
        assert run.fixed_lengths  # --output-details: the per-request lengths
