"""`pdplan loadtest` against the local fake engine: steps, resume, a failing deployment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.fakes.openai_server import FakeEngine, FakeServer

from pdplan.bench.records import read_jsonl
from pdplan.cli import main

PROFILE = str(Path(__file__).parents[1] / "data" / "small-profile.yaml")


def loadtest(capsys: pytest.CaptureFixture[str], url: str, out: Path, *extra: str) -> dict:  # type: ignore[type-arg]
    with pytest.raises(SystemExit) as info:
        main(
            [
                "loadtest",
                "--url",
                url,
                "--isl",
                "100",
                "--osl",
                "8",
                "--rps",
                "20",
                "--ttft",
                "500ms",
                "--tpot",
                "50ms",
                "--duration",
                "1s",
                "--sweep",
                "0.5,1",
                "--out",
                str(out),
                "--json",
                *extra,
            ]
        )
    out_text, err = capsys.readouterr()
    assert info.value.code == 0, err
    data: dict = json.loads(out_text)  # type: ignore[type-arg]
    return data


def test_sweep_reports_each_step_and_resumes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with FakeServer(FakeEngine()) as server:
        data = loadtest(capsys, server.url, tmp_path)
        steps = data["steps"]
        assert [s["multiplier"] for s in steps] == [0.5, 1.0]
        for s in steps:
            assert s["failed"] == 0 and s["meets_slo"] and s["slo_attainment"] > 0.9
            assert s["ttft_s"]["p90"] > 0 and s["tpot_s"]["mean"] > 0
        assert steps[1]["achieved_rps"] == pytest.approx(20, rel=0.5)
        count = len(read_jsonl(tmp_path / "records.jsonl"))
        again = loadtest(capsys, server.url, tmp_path)
        assert again["steps"] == steps  # resumed from steps.jsonl
        assert len(read_jsonl(tmp_path / "records.jsonl")) == count


def test_a_corrupt_step_on_disk_is_one_clear_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with FakeServer(FakeEngine()) as server:
        loadtest(capsys, server.url, tmp_path)
        steps = tmp_path / "steps.jsonl"
        rows = [json.loads(line) for line in steps.read_text().splitlines()]
        rows[0]["slo_attainment"] = 7  # a share above 1: hand-edited or another tool's file
        steps.write_text("".join(json.dumps(r) + "\n" for r in rows))
        with pytest.raises(SystemExit) as info:
            main(["loadtest", "--url", server.url, "--isl", "100", "--osl", "8", "--rps", "20",
                  "--duration", "1s", "--sweep", "0.5,1", "--out", str(tmp_path)])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert info.value.code == 1
    assert "steps.jsonl, step loadtest/x0.5" in err and "slo_attainment" in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err


def test_failing_deployment_is_reported_not_crashed_on(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with FakeServer(FakeEngine(fail_after=12)) as server:
        data = loadtest(capsys, server.url, tmp_path)
    first, second = data["steps"]
    assert first["failed"] == 0  # 10 requests before the engine starts failing
    assert second["failed"] > 0 and not second["meets_slo"]
    assert second["first_error"].startswith("HTTP 500")


def test_predictions_need_a_profile_allocation(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with FakeServer(FakeEngine()) as server:
        data = loadtest(
            capsys, server.url, tmp_path, "--prefill", "1", "--decode", "1", "--profile", PROFILE
        )
    p = data["predictions"]
    assert p["allocation"] == "1P1D"
    assert p["planned_max_total_tps"] > 0 and p["simulated_max_total_tps"] > 0
    assert len(p["simulated_sweep"]) == 2


def test_bursty_and_trace_workloads_drive_the_same_generator(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    traces = Path(__file__).parents[1] / "data" / "traces"
    with FakeServer(FakeEngine()) as server:
        bursty = loadtest(capsys, server.url, tmp_path / "g", "--arrivals", "gamma:4")
        # a trace replayed 4x faster: the steps send its requests at its (scaled) times
        with pytest.raises(SystemExit) as info:
            main(
                [
                    "loadtest", "--url", server.url, "--trace", str(traces / "pdplan.csv"),
                    "--time-scale", "4", "--ttft", "500ms", "--tpot", "50ms", "--sweep", "1,2",
                    "--out", str(tmp_path / "t"), "--json",
                ]
            )  # fmt: skip
        out, err = capsys.readouterr()
        assert info.value.code == 0, err
    assert bursty["workload"]["arrivals"] == {"kind": "gamma", "scv": 4.0}
    for step in bursty["steps"]:
        assert step["send_lag_s"]["p99"] < 0.5 and step["offered_rps"] > 0
    replay = json.loads(out)
    first, second = replay["steps"]
    assert first["requests"] == second["requests"] == 6
    # scheduled: 5 gaps over 11 s / 4 -> 1.82 req/s; twice that at x2
    assert first["scheduled_rps"] == pytest.approx(20 / 11)
    assert second["scheduled_rps"] == pytest.approx(40 / 11)
    records = [r for r in read_jsonl(tmp_path / "t" / "records.jsonl") if r["step"] != "probe"]
    assert sorted(r["isl_tokens"] for r in records if r["step"] == "loadtest/x1") == [
        100, 200, 300, 400, 500, 600
    ]  # fmt: skip


def test_ctrl_c_mid_step_exits_cleanly_and_resume_counts_the_step_once(tmp_path: Path) -> None:
    """SIGINT in the middle of a step: exit 130 with one line (no "Task exception was never
    retrieved"), the partial records kept; the resumed run's step is its own records only."""
    import signal
    import subprocess
    import sys
    import time

    from pdplan.bench.records import step_records

    args = [
        sys.executable, "-m", "pdplan", "loadtest", "--isl", "100", "--osl", "8", "--rps", "20",
        "--duration", "3s", "--ttft", "500ms", "--tpot", "50ms", "--out", str(tmp_path), "--json",
    ]  # fmt: skip
    with FakeServer(FakeEngine(tpot_base_s=0.01)) as server:
        proc = subprocess.Popen(
            [*args, "--url", server.url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 30
        while server.engine.completions < 15 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, err
        assert "Task exception was never retrieved" not in err and "Traceback" not in err
        assert err.strip().splitlines()[-1] == "Interrupted: stopped by the user"
        partial = [r for r in read_jsonl(tmp_path / "records.jsonl") if r["step"] == "loadtest/x1"]
        assert partial and step_records(tmp_path, "loadtest/x1") == []  # kept, unfinished
        done = subprocess.run(
            [*args, "--url", server.url], capture_output=True, text=True, timeout=60
        )
    assert done.returncode == 0, done.stderr
    (step,) = json.loads(done.stdout)["steps"]
    counted = step_records(tmp_path, "loadtest/x1")
    assert len(counted) == step["requests"]  # the resumed run's records, once
    assert {r["run_id"] for r in counted} == {step["run_id"]}
    everything = [r for r in read_jsonl(tmp_path / "records.jsonl") if r["step"] == "loadtest/x1"]
    assert len(everything) == len(counted) + len(partial)
