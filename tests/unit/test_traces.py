"""Trace readers and summaries against golden values computed by hand (tests/data/traces)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pdplan import ConfigError, Poisson, Trace, Workload, load_trace
from pdplan.traffic.summary import (
    index_of_dispersion,
    local_arrival_scv,
    local_dispersion,
    summarize_trace,
    window_counts,
)

TRACES = Path(__file__).parents[1] / "data" / "traces"
FORMATS = {
    "pdplan.csv": "pdplan",
    "azure-2023.csv": "azure",
    "azure-2024.csv": "azure",
    "mooncake.jsonl": "mooncake",
    "vllm-bench.json": "vllm-bench",
}
TIMES = (0.0, 1.0, 2.0, 4.0, 7.0, 11.0)


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_every_format_reads_the_same_six_requests(name: str) -> None:
    trace = load_trace(TRACES / name)
    assert trace.fmt == FORMATS[name]
    assert trace.arrival_s == pytest.approx(TIMES)
    assert trace.isl_tokens == (100, 200, 300, 400, 500, 600)
    assert trace.osl_tokens == (10, 20, 30, 40, 50, 60)
    assert (trace.hash_ids is not None) == (name == "mooncake.jsonl")


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_golden_summary(name: str) -> None:
    s = summarize_trace(load_trace(TRACES / name), windows_s=(5.0,))
    assert s.requests == 6 and s.span_s == pytest.approx(11.0)
    assert s.mean_rate_rps == pytest.approx(5 / 11)  # (n - 1) / span: one over the mean gap
    # gaps 1, 1, 2, 3, 4: mean 2.2, variance 1.36 -> SCV 1.36 / 4.84
    assert s.interarrival_scv == pytest.approx(1.36 / 4.84)
    # full 5 s windows: [0, 5) holds 4, [5, 10) holds 1 (the last, partial one is left out)
    (w,) = s.rates
    assert (w.windows, w.mean_rps, w.peak_rps) == (2, pytest.approx(0.5), pytest.approx(0.8))
    assert w.index_of_dispersion == pytest.approx(4.5 / 2.5)  # sample variance / mean
    assert (s.isl_tokens.mean, s.isl_tokens.p50, s.isl_tokens.p90) == (350, 350, 550)
    assert s.isl_tokens.p99 == pytest.approx(595) and s.isl_tokens.max == 600
    assert s.isl_tokens.scv == pytest.approx(175000 / 6 / 350**2)
    assert s.osl_tokens.mean == 35 and s.total_tps == pytest.approx(5 / 11 * 385)
    expected_seen = 4 / 11 if name == "mooncake.jsonl" else None  # blocks 0, 0, 1, 3 repeat
    assert s.prefix_blocks_seen == (
        pytest.approx(expected_seen) if expected_seen is not None else None
    )


def test_slicing_rebases_and_scaling_compresses() -> None:
    sliced = load_trace(TRACES / "pdplan.csv", slice_s=(1.0, 7.0))
    assert sliced.arrival_s == (0.0, 1.0, 3.0) and sliced.isl_tokens == (200, 300, 400)
    assert Trace.sliced(load_trace(TRACES / "pdplan.csv"), 1.0, 7.0).arrival_s == (0.0, 1.0, 3.0)
    s = summarize_trace(load_trace(TRACES / "pdplan.csv"), time_scale=2.0, windows_s=(5.0,))
    assert s.span_s == pytest.approx(5.5) and s.mean_rate_rps == pytest.approx(10 / 11)
    with pytest.raises(ConfigError, match="holds no request"):
        load_trace(TRACES / "pdplan.csv", slice_s=(20.0, 30.0))


def test_workload_from_a_trace_scales_and_replays() -> None:
    trace = load_trace(TRACES / "pdplan.csv")
    w = Workload.from_trace(trace, time_scale=4.0)
    assert w.rate_rps == pytest.approx(20 / 11) and w.time_scale == pytest.approx(4.0)
    assert w.isl_tokens == 350 and w.osl_tokens == 35 and w.replays_trace
    requests = w.requests(999, __import__("random").Random(0))  # a replay ignores the count
    assert requests.arrival_s == pytest.approx([t / 4 for t in TIMES])
    faster = w.scaled(2.0)
    assert faster.time_scale == pytest.approx(8.0)
    assert Workload.from_trace(trace, rate_rps=1.0).time_scale == pytest.approx(11 / 5)
    # the trace's lengths (jointly) with Poisson arrivals at the same mean rate
    poisson = Workload.from_trace(trace, time_scale=4.0, arrivals=Poisson())
    drawn = poisson.requests(500, __import__("random").Random(1))
    pairs = set(zip(drawn.isl_tokens, drawn.osl_tokens, strict=True))
    assert pairs <= {(100 * k, 10 * k) for k in range(1, 7)}  # ISL and OSL stay paired
    assert poisson.warmup_share == 0.1 and w.warmup_share == 0.0
    # the JSON form summarises the trace instead of dumping it
    dumped = w.model_dump(mode="json")
    assert dumped["trace"]["requests"] == 6 and dumped["isl"]["count"] == 6


def test_window_statistics() -> None:
    times = [0.0, 0.5, 1.2, 2.5, 3.9]
    assert window_counts(times, 1.0) == [2, 1, 1]
    assert index_of_dispersion([float(i) for i in range(100)], 10.0) == 0.0
    # two windows with their own even rates: no burstiness left inside them
    assert local_arrival_scv([0.0, 1.0, 2.0, 3.0, 10.0, 10.5, 11.0, 11.5], 5.0) == 0.0
    assert local_dispersion([float(i) for i in range(100)], 2.0, 20.0) == 0.0
    assert local_dispersion([], 2.0, 20.0) == 1.0  # no data: Poisson


def _write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


BAD = [
    ("empty.csv", b"", "the trace is empty"),
    ("header.csv", b"arrival_s,isl_tokens,osl_tokens\n", "the trace has no requests"),
    (
        "unsorted.csv",
        b"arrival_s,isl_tokens,osl_tokens\n0,1,1\n2,1,1\n1,1,1\n",
        "unsorted.csv:4: arrival time 1 s is before the previous request's",
    ),
    (
        "negative.csv",
        b"arrival_s,isl_tokens,osl_tokens\n-1,1,1\n",
        "negative.csv:2: arrival_s: must be >= 0",
    ),
    ("columns.csv", b"arrival_s,isl_tokens\n0,1\n", "not a trace format pdplan reads"),
    (
        "short.csv",
        b"arrival_s,isl_tokens,osl_tokens\n0,100\n",
        "short.csv:2: missing field(s) osl_tokens",
    ),
    (
        "zero.csv",
        b"TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.68,100,0\n",
        "zero.csv:2: GeneratedTokens: expected a whole number of tokens",
    ),
    (
        "date.csv",
        b"TIMESTAMP,ContextTokens,GeneratedTokens\nyesterday,100,10\n",
        "date.csv:2: TIMESTAMP: cannot read 'yesterday'",
    ),
    ("latin1.csv", b"arrival_s,isl_tokens,osl_tokens\n0,100,\xe9\n", "not a UTF-8 text file"),
    ("binary.bin", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff\x00\x01", "not a"),
    ("nul.csv", b"arrival_s,isl_tokens,osl_tokens\n0,1\x00,1\n", "nul.csv:2: isl_tokens:"),
    ("bad.jsonl", b'{"timestamp": 0, "input_length": 1, "output_length": 1}\n{oops\n', ":2: not"),
    (
        "missing.jsonl",
        b'{"timestamp": 0, "input_length": 1, "output_length": 1}\n{"timestamp": 1}\n',
        "missing.jsonl:2: missing field(s) input_length, output_length",
    ),
    (
        "summary.json",
        b'{"backend": "vllm", "input_lens": [1], "completed": 1}',
        "save it with --save-result --save-detailed",
    ),
    ("one.csv", b"arrival_s,isl_tokens,osl_tokens\n0,1,1\n", None),  # valid, but no time span
]


@pytest.mark.parametrize(("name", "content", "needle"), BAD, ids=[b[0] for b in BAD])
def test_bad_traces_raise_one_clear_line(
    tmp_path: Path, name: str, content: bytes, needle: str | None
) -> None:
    path = _write(tmp_path, name, content)
    if needle is None:
        with pytest.raises(ConfigError, match="needs a time span"):
            summarize_trace(load_trace(path))
        return
    with pytest.raises(ConfigError) as info:
        load_trace(path)
    message = str(info.value)
    assert needle in message and "\n" not in message
    assert str(path) in message


def test_the_real_shipped_traces_read() -> None:
    examples = Path(__file__).parents[2] / "examples" / "traces"
    azure = load_trace(examples / "azure-llm-inference-conv-2023.csv")
    assert (azure.fmt, len(azure)) == ("azure", 19366)
    mooncake = load_trace(examples / "mooncake-conversation.jsonl")
    assert (mooncake.fmt, len(mooncake)) == ("mooncake", 12031)
    assert mooncake.hash_ids is not None
