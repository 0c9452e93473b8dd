"""`pdplan profile` against a local fake streaming engine: fast, no GPU, no network."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.fakes.openai_server import FakeEngine, FakeServer

from pdplan import load_profile
from pdplan.bench import profiler
from pdplan.bench.decode import DecodeSettings
from pdplan.bench.prefill import PrefillSettings
from pdplan.bench.records import read_jsonl
from pdplan.cli import main
from pdplan.errors import BenchmarkError


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    with FakeServer(FakeEngine(prefill_tps=100_000.0)) as server:
        yield server


def test_prefill_tpmax_matches_the_engine(fake: FakeServer, tmp_path: Path) -> None:
    settings = PrefillSettings(
        min_duration_s=0, isls=(500,), concurrency=2, requests=40, loads=(0.5,), sweep_requests=30
    )
    part = asyncio.run(profiler.run_prefill(fake.url, tmp_path, settings))
    point = part.max_throughput[0]
    # The fake serves prefill FCFS at 100k tok/s plus per-request HTTP costs: at most 100k.
    assert 60_000 < point.max_tps <= 101_000
    assert point.idle_ttft_s is not None and point.idle_ttft_s >= 500 / 100_000
    assert part.ttft_vs_rate[0].requests == 30
    assert fake.engine.prompt_tokens_total == sum(
        r["prompt_tokens"] for r in read_jsonl(tmp_path / "records.jsonl") if r["prompt_tokens"]
    )


def test_decode_tpot_matches_the_engine(fake: FakeServer, tmp_path: Path) -> None:
    """The profiler's TPOT is what the engine delivered, whatever the machine's load.

    The fake's step time is 2 ms + 0.2 ms per active request in asyncio sleeps, which a busy
    CI machine stretches (batch 4 read 6.2 ms once instead of ~2.8 ms): so the truth is the
    engine's own log of each stream, not the nominal step time.
    """
    settings = DecodeSettings(
        min_duration_s=0, isl_tokens=50, osl_tokens=40, batches=(1, 4), rounds=3
    )
    part = asyncio.run(profiler.run_decode(fake.url, tmp_path, settings))
    points = {p.batch: p for p in part.curves[0].points}
    records = read_jsonl(tmp_path / "records.jsonl")
    for batch, point in points.items():
        step = [r for r in records if r["step"].endswith(f"/batch={batch}") and r["t_first_s"]]
        t0 = min(r["t_send_s"] for r in step)
        t1 = max(r["t_end_s"] for r in step)
        delivered = [
            (last - first) / (n - 1) for first, last, n in fake.engine.streams if t0 <= first <= t1
        ]
        assert len(delivered) == len(step)
        engine_tpot_ms = 1000 * sum(delivered) / len(delivered)
        # the steady window leaves out the ramp (fewer active streams, shorter steps)
        assert 0.7 * engine_tpot_ms < point.tpot_ms < 1.3 * engine_tpot_ms, (batch, engine_tpot_ms)
        # tokens/s inside the window agree with batch / TPOT
        assert point.output_tps is not None
        assert 0.6 < point.output_tps * point.tpot_ms / 1000 / batch < 1.4
    # the fake's step time grows with the batch (2 ms + 0.2 ms per active request)
    assert points[4].tpot_ms > points[1].tpot_ms
    # sleeps never end early: no stream decodes faster than the nominal 2.2 ms per token
    assert points[1].tpot_ms > 2.15


def test_profile_all_cli_writes_a_valid_profile_and_resumes(
    fake: FakeServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [
        "profile",
        "all",
        "--url",
        fake.url,
        "--isl",
        "200",
        "--concurrency",
        "2",
        "--requests",
        "12",
        "--decode-isl",
        "100",
        "--osl",
        "8",
        "--batch",
        "1,2",
        "--rounds",
        "3",
        "--min-duration",
        "0s",
        "--out",
        str(tmp_path),
        "--prefill-gpus",
        "2",
    ]
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 0, capsys.readouterr().err
    profile = load_profile(tmp_path / "profile.yaml")
    assert profile.prefill.gpus_per_instance == 2
    assert [c.osl_tokens for c in profile.decode.curves] == [8]
    assert profile.metadata.model == "fake-model"
    count = len(read_jsonl(tmp_path / "records.jsonl"))
    with pytest.raises(SystemExit):
        main(args)  # every step is in steps.jsonl: nothing is measured again
    assert len(read_jsonl(tmp_path / "records.jsonl")) == count
    out = capsys.readouterr().out
    assert "profile written to" in out
    size = json.loads(_run_size(capsys, str(tmp_path / "profile.yaml")))
    assert size["allocation"]["prefill_instances"] >= 1


def _run_size(capsys: pytest.CaptureFixture[str], profile: str) -> str:
    with pytest.raises(SystemExit):
        main(
            [
                "size",
                "--profile",
                profile,
                "--isl",
                "200",
                "--osl",
                "8",
                "--ttft",
                "1s",
                "--tpot",
                "50ms",
                "--rps",
                "5",
                "--json",
            ]
        )
    return capsys.readouterr().out


def test_failing_server_keeps_what_was_measured(tmp_path: Path) -> None:
    with FakeServer(FakeEngine(fail_after=20)) as server:
        settings = PrefillSettings(min_duration_s=0, isls=(100,), concurrency=2, requests=40)
        with pytest.raises(BenchmarkError, match="requests failed"):
            asyncio.run(profiler.run_prefill(server.url, tmp_path, settings))
    rows = read_jsonl(tmp_path / "records.jsonl")
    assert sum(r["error"] is None for r in rows) >= 19
    assert any(r["error"] and r["error"].startswith("HTTP 500") for r in rows)
    steps = [r["step"] for r in read_jsonl(tmp_path / "steps.jsonl")]
    assert "prefill/isl=100/idle" in steps


def test_text_prompts_when_token_ids_are_refused(tmp_path: Path) -> None:
    with FakeServer(FakeEngine(reject_token_ids=True)) as server:
        settings = PrefillSettings(
            min_duration_s=0, isls=(64,), concurrency=1, requests=8, idle_requests=3
        )
        part = asyncio.run(profiler.run_prefill(server.url, tmp_path, settings))
    assert part.meta is not None and part.meta.prompt_mode == "text"
    prompts = [
        r["prompt_tokens"] for r in read_jsonl(tmp_path / "records.jsonl") if r["prompt_tokens"]
    ]
    assert prompts and all(p == 64 for p in prompts)


def test_api_key_from_env_is_sent_and_never_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PDPLAN_API_KEY", "sk-secret-123")
    with FakeServer(FakeEngine(required_key="sk-secret-123")) as server:
        settings = PrefillSettings(
            min_duration_s=0, isls=(32,), concurrency=1, requests=6, idle_requests=2
        )
        asyncio.run(profiler.run_prefill(server.url, tmp_path, settings))
        assert "Bearer sk-secret-123" in server.engine.seen_auth
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert "sk-secret-123" not in path.read_text()


def test_unreachable_server_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as info:
        main(["profile", "prefill", "--url", "http://127.0.0.1:9", "--out", str(tmp_path)])
    assert info.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("BenchmarkError: http://127.0.0.1:9: cannot reach the server")


def test_profile_records_intervals_drift_and_its_precision(tmp_path: Path) -> None:
    """Every measured value gets its 90 % interval; a sweep point runs on until its mean TTFT
    is within the asked precision (or says it was not); TPmax is measured again at the end."""
    settings = PrefillSettings(
        min_duration_s=0.5,
        isls=(64,),
        concurrency=2,
        requests=24,
        loads=(0.5,),
        sweep_requests=40,
        precision=0.05,
        point_budget_s=20,
    )
    with FakeServer(FakeEngine(prefill_tps=50_000)) as server:
        part = asyncio.run(profiler.run_prefill(server.url, tmp_path, settings))
    point = part.max_throughput[0]
    assert point.max_tps_low <= point.max_tps <= point.max_tps_high  # type: ignore[operator]
    sweep = part.ttft_vs_rate[0]
    assert sweep.ttft_mean_low_s <= sweep.ttft_mean_s <= sweep.ttft_mean_high_s  # type: ignore[operator]
    steps = {r["step"]: r for r in read_jsonl(tmp_path / "steps.jsonl")}
    swept = steps["prefill/isl=64/poisson/load=0.5"]
    half = (sweep.ttft_mean_high_s - sweep.ttft_mean_low_s) / 2 / sweep.ttft_mean_s  # type: ignore[operator]
    assert swept["precision_reached"] == (half <= 0.05)
    assert swept["ttft_s"]["count"] >= 40 and swept["ttft_s"]["count"] % 40 == 0
    assert part.tpmax_drift is not None and -1 < part.tpmax_drift < 10
    assert "prefill/isl=64/saturate-again/c=2" in steps
