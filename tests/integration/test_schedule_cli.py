"""``pdplan schedule`` and ``simulate --schedule`` as a user runs them: a ramp that needs more
prefill in its busy steps, the tables, strict JSON, the CSV that simulate reads back, the
exports validated against the real schemas (KEDA's CRD, Kubernetes' autoscaling/v2, Dynamo's
planner model), and bad input refused in one line."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from jsonschema import Draft7Validator, Draft202012Validator
from tests.cli_helpers import run
from tests.integration.test_export_dynamo import closed

SCHEMAS = Path(__file__).parents[1] / "data" / "schemas"
RATES = (1.0, 5.0, 9.0, 3.0)  # req/s in each 10-minute step; 6,144-token prompts


@pytest.fixture(scope="module")
def trace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = random.Random(3)
    rows = ["arrival_s,isl_tokens,osl_tokens"]
    for k, rate in enumerate(RATES):
        t = k * 600.0
        while True:
            t += rng.expovariate(rate)
            if t >= (k + 1) * 600:
                break
            rows.append(f"{t:.4f},6144,32")
    path = tmp_path_factory.mktemp("ramp") / "ramp.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _args(trace: Path, *more: str) -> list[str]:
    return ["schedule", "--trace", str(trace), "--ttft", "1s", "--jobs", "1", *more]


@pytest.fixture(scope="module")
def planned(trace: Path) -> dict[str, Any]:
    from click.testing import CliRunner

    from pdplan.cli import cli

    result = CliRunner().invoke(cli, _args(trace, "--json", "--scale-up-delay", "2min"))
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_the_json_holds_a_schedule_that_meets_every_window(planned: dict[str, Any]) -> None:
    steps = planned["schedule"]["steps"]
    assert steps[0]["start_s"] == 0 and len(steps) >= 3
    assert all(w["meets"] for w in planned["replay"]["windows"])
    policies = {p["policy"]: p for p in planned["policies"]}
    assert set(policies) == {
        f"static {planned['static_allocation']}",
        "schedule",
        "throughput constant",
        "throughput moving-average",
        "throughput kalman",
        "threshold HPA",
    }
    static = policies[f"static {planned['static_allocation']}"]
    assert policies["schedule"]["gpu_hours"] < static["gpu_hours"]
    for p in planned["policies"]:
        assert p["windows"] == 4 and (p["meets"] == (p["windows_met"] == 4))


def test_the_tables_and_the_csv_that_simulate_reads_back(
    trace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "schedule.csv"
    code, out, err = run(capsys, *_args(trace, "--csv", str(csv), "--no-policies"))
    assert code == 0, err
    assert "Schedule: the counts serving from each time on" in out
    assert "fewer than the static" in out and "every window meets on replay" in out
    assert csv.read_text().startswith("start_s,prefill_instances,decode_instances\n0,")
    code, out, err = run(
        capsys, "simulate", "--trace", str(trace), "--ttft", "1s", "--schedule", str(csv),
        "--scale-up-delay", "3min", "--json",
    )  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    assert data["meets_slo"] and len(data["windows"]) == 4
    code, out, err = run(capsys, "simulate", "--trace", str(trace), "--schedule", str(csv))
    assert code == 0, err
    assert "4/4 windows of 10 min meet mean TTFT <= 2 s" in out  # the default SLOs


def test_keda_export_validates_against_the_crd(
    trace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, *_args(trace, "--export", "keda", "--no-policies"))
    assert code == 0, err
    assert "time 0 of the trace is 00:00 UTC" in err
    text = (SCHEMAS / "keda" / "scaledobject-v1alpha1.schema.json").read_text(encoding="utf-8")
    schema = closed(json.loads(text))
    validator = Draft7Validator(schema)
    docs = list(yaml.safe_load_all(out))
    assert [d["metadata"]["name"] for d in docs] == ["pdplan-prefill", "pdplan-decode"]
    for doc in docs:
        assert not list(validator.iter_errors(doc))
        for trigger in doc["spec"]["triggers"]:
            meta = trigger["metadata"]
            # KEDA's cron scaler: start, end, timezone, desiredReplicas (> 0), start != end
            assert set(meta) == {"start", "end", "timezone", "desiredReplicas"}
            assert meta["start"] != meta["end"] and int(meta["desiredReplicas"]) > 0
    prefill = docs[0]["spec"]
    # the busiest step (20:00 to 30:00 on the trace's clock) starts one delay (3 min) earlier
    starts = {t["metadata"]["start"] for t in prefill["triggers"]}
    assert "17 0 * * *" in starts
    assert prefill["maxReplicaCount"] > prefill["minReplicaCount"]


def test_hpa_export_validates_against_kubernetes(
    trace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, *_args(trace, "--export", "hpa"))
    assert code == 0, err
    for doc in yaml.safe_load_all(out):
        kubernetes_validate.validate(doc, desired_version="1.30", strict=True)
        target = doc["spec"]["metrics"][0]["pods"]["target"]
        assert target["type"] == "AverageValue" and target["averageValue"].endswith("m")
        assert doc["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300


def test_dynamo_planner_export_validates_against_the_planner_model(
    trace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, *_args(trace, "--export", "dynamo-planner"))
    assert code == 0, err
    assert "no headroom factor" in err
    schema = closed(json.loads((SCHEMAS / "dynamo" / "planner-config.schema.json").read_text()))
    config = json.loads(out)
    assert not list(Draft202012Validator(schema).iter_errors(config))
    assert config["throughput_adjustment_interval_seconds"] == 180
    assert config["load_predictor"] in ("constant", "kalman")
    assert config["ttft_ms"] == 1000.0 and config["itl_ms"] == 20.0


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--step", "30s"], "--step must be 1 min to 1 day, got 30 s"),
        (["--scale-up-delay", "1h"], "--scale-up-delay 3600 s is not shorter than the trace"),
        (["--slo-window", "0s"], "--slo-window"),
        (["--gpu-cost", "abc"], "--gpu-cost: 'abc' is not a price per GPU-hour"),
        (["--jobs", "2", "--ray", "auto"], "--jobs and --ray: Ray places the work"),
        (["--max-prefill", "1"], "the step at 600 s needs more than the maximum of 1 prefill"),
        (["--interval", "1s"], "--interval must be 10 s to 1 day"),
    ],
)
def test_bad_input_is_one_line_and_a_nonzero_exit(
    trace: Path, args: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, *_args(trace, "--no-policies", *args))
    assert code != 0 and needle in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_no_trace_and_bad_schedule_files_are_refused(
    trace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "schedule")
    assert code != 0 and "--trace is required" in err
    zero = tmp_path / "zero.csv"
    zero.write_text("start_s,prefill_instances,decode_instances\n0,1,1\n600,0,2\n")
    code, _, err = run(capsys, "simulate", "--trace", str(trace), "--schedule", str(zero))
    assert code != 0
    assert "line 3: prefill_instances: Input should be greater than or equal to 1" in err
    late = tmp_path / "late.csv"
    late.write_text("start_s,prefill_instances,decode_instances\n60,1,1\n")
    code, _, err = run(capsys, "simulate", "--trace", str(trace), "--schedule", str(late))
    assert code != 0 and "the first step starts at 60 s; it must start at 0" in err
    code, _, err = run(
        capsys, "simulate", "--trace", str(trace), "--schedule", str(late), "--prefill", "2"
    )
    assert code != 0 and "--schedule and --prefill: the schedule gives the counts" in err
