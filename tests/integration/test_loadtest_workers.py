"""`pdplan loadtest --workers N`: one schedule sent by N processes, one writer, one clock."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from tests.fakes.openai_server import FakeEngine, FakeServer

from pdplan.bench.records import read_jsonl, step_records
from pdplan.cli import main

ARGS = ["--isl", "100", "--osl", "8", "--rps", "40", "--ttft", "500ms", "--tpot", "50ms",
        "--duration", "1s", "--sweep", "0.5,1", "--json"]  # fmt: skip


def loadtest(capsys: pytest.CaptureFixture[str], url: str, out: Path, *extra: str) -> Any:
    with pytest.raises(SystemExit) as info:
        main(["loadtest", "--url", url, *ARGS, "--out", str(out), *extra])
    text, err = capsys.readouterr()
    assert info.value.code == 0, err
    return json.loads(text)


def _shapes(out: Path, step: str) -> list[tuple[int, int, int]]:
    rows = step_records(out, step)
    return sorted((r["extra"]["index"], r["isl_tokens"], r["max_tokens"]) for r in rows)


def test_one_and_two_workers_send_the_same_schedule_and_report_alike(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with FakeServer(FakeEngine()) as server:
        one = loadtest(capsys, server.url, tmp_path / "one", "--workers", "1")
        two = loadtest(capsys, server.url, tmp_path / "two", "--workers", "2")
    for a, b in zip(one["steps"], two["steps"], strict=True):
        assert a.keys() == b.keys()  # the same format
        for key in ("multiplier", "scheduled_rps", "requests", "failed", "meets_slo"):
            assert a[key] == b[key], key
        assert a["workers"] is None
        workers = b["workers"]
        assert [w["worker"] for w in workers] == [0, 1]
        assert sum(w["requests"] for w in workers) == b["requests"]
        assert abs(workers[0]["requests"] - workers[1]["requests"]) <= 1  # dealt i mod 2
        for w in workers:
            assert w["send_lag_s"]["p99"] < 0.05 and w["offered_rps"] > 0
        # the same engine, the same load: the same latency within the noise of a short step
        assert b["ttft_s"]["mean"] == pytest.approx(a["ttft_s"]["mean"], rel=1.0)
        step = f"loadtest/x{a['multiplier']:g}"
        assert _shapes(tmp_path / "one", step) == _shapes(tmp_path / "two", step)
    # resumed from steps.jsonl without sending anything
    with FakeServer(FakeEngine()) as server:
        again = loadtest(capsys, server.url, tmp_path / "two", "--workers", "2")
        assert server.engine.completions <= 1  # the probe at most
    assert again["steps"] == two["steps"]


def test_a_generator_that_falls_behind_fails_the_step(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with FakeServer(FakeEngine()) as server:
        data = loadtest(capsys, server.url, tmp_path, "--workers", "2", "--max-send-lag", "1us")
    for step in data["steps"]:
        assert step["generator_behind"] and not step["meets_slo"]
        assert step["failure"] == "generator" and step["send_lag_limit_s"] == 1e-6


def test_an_interrupted_multi_worker_step_resumes_without_double_counting(
    tmp_path: Path,
) -> None:
    args = [
        sys.executable, "-m", "pdplan", "loadtest", "--isl", "100", "--osl", "8", "--rps", "20",
        "--duration", "3s", "--ttft", "500ms", "--tpot", "50ms", "--out", str(tmp_path),
        "--json", "--workers", "2",
    ]  # fmt: skip
    with FakeServer(FakeEngine(tpot_base_s=0.01)) as server:
        proc = subprocess.Popen(
            [*args, "--url", server.url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 60
        while server.engine.completions < 15 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)  # the controller only: it stops its workers
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        assert "Traceback" not in err
        assert err.strip().splitlines()[-1] == "Interrupted: stopped by the user"
        partial = [r for r in read_jsonl(tmp_path / "records.jsonl") if r["step"] == "loadtest/x1"]
        assert partial and step_records(tmp_path, "loadtest/x1") == []  # kept, unfinished
        assert {r["extra"]["worker"] for r in partial} == {0, 1}
        done = subprocess.run(
            [*args, "--url", server.url], capture_output=True, text=True, timeout=120
        )
    assert done.returncode == 0, done.stderr
    (step,) = json.loads(done.stdout)["steps"]
    counted = step_records(tmp_path, "loadtest/x1")
    assert len(counted) == step["requests"] == 60
    assert {r["run_id"] for r in counted} == {step["run_id"]}
    everything = [r for r in read_jsonl(tmp_path / "records.jsonl") if r["step"] == "loadtest/x1"]
    assert len(everything) == len(counted) + len(partial)


def test_workers_must_be_a_count_or_auto(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["loadtest", "--url", "http://127.0.0.1:9", *ARGS, "--workers", "many"])
    err = capsys.readouterr().err
    assert info.value.code == 1 and "--workers" in err and "'many'" in err
