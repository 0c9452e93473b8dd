"""`pdplan size` end to end: the worked example, JSON, what-ifs and every bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.cli_helpers import run
from tests.cli_helpers import run_json as cli_json

from pdplan.cli import EXIT_BAD_INPUT, EXIT_INFEASIBLE, EXIT_USAGE


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    return cli_json(capsys, "size", *args)


def _size(*args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "pdplan", "size", *args], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_paper_model_is_the_worked_example_in_a_real_process() -> None:
    out = _size("--plan-model", "paper")
    for needle in [
        "25,075 tok/s",
        "1,707 tok/s",
        "0.82 : 1",
        "3.07",
        "3.76",
        "4P4D plan",
        "3P4D",
        "4.89 M TPM",
        "98%",
        "3.99 M TPM",
        "decode binds",
        "64",
    ]:
        assert needle in out, needle


def test_default_plans_the_worked_example_with_a_fluctuating_decode_batch() -> None:
    # auto: the paper's M/M/1 prefill (no sweep in the profile); decode batches fluctuate
    # with Poisson arrivals (README: simulator 5.33 M TPM for 4P4D, held batch 5.33, auto 5.26)
    out = _size()
    for needle in ["25,075 tok/s", "3.07", "4P4D plan", "4.89 M TPM", "5.26 M TPM", "fluctuates"]:
        assert needle in out, needle


def test_json_fields(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "--plan-model", "paper")
    assert data["prefill"]["effective_input_tps"] == pytest.approx(25075.3, abs=0.1)
    assert data["prefill"]["instances"] == pytest.approx(3.068, abs=1e-3)
    assert data["prefill"]["utilization"] == pytest.approx(0.8858, abs=1e-4)
    assert data["decode"]["batch"] == 34
    assert data["decode"]["effective_output_tps"] == pytest.approx(1706.8, abs=0.1)
    assert data["decode"]["instances"] == pytest.approx(3.756, abs=1e-3)
    assert data["pd_ratio"] == pytest.approx(0.817, abs=1e-3)
    alloc = data["allocation"]
    assert (alloc["prefill_instances"], alloc["decode_instances"], alloc["gpus"]) == (4, 4, 64)
    assert alloc["max_total_tps"] == pytest.approx(88755, rel=1e-3)
    alts = {(a["prefill_instances"], a["decode_instances"]): a for a in data["alternatives"]}
    assert alts[(3, 4)]["gpus"] == 56 and not alts[(3, 4)]["meets_target"]
    assert alts[(3, 4)]["max_total_tps"] == pytest.approx(81495, rel=1e-3)


def test_three_ways_to_state_the_target_agree(capsys: pytest.CaptureFixture[str]) -> None:
    a = run_json(capsys, "--tpm", "5M")
    b = run_json(capsys, "--total-tps", str(5e6 / 60))
    c = run_json(capsys, "--rps", str(5e6 / 60 / 6656))
    assert a["prefill"]["instances"] == pytest.approx(b["prefill"]["instances"])
    assert a["decode"]["instances"] == pytest.approx(c["decode"]["instances"])


def test_what_if_flags_reproduce_the_profile(capsys: pytest.CaptureFixture[str]) -> None:
    base = run_json(capsys)
    whatif = run_json(
        capsys,
        "--prefill-max-tps",
        "28309",
        "--overhead",
        "100ms",
        "--decode-table",
        "10:12.8,20:16.4,30:18.8,40:21.6,50:23.9,60:26.2",
    )
    assert whatif["prefill"] == base["prefill"]
    assert whatif["decode"] == base["decode"]


def test_profile_file_and_units(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(
        capsys,
        "--profile",
        str(Path(__file__).parents[1] / "data" / "small-profile.yaml"),
        "--isl",
        "2000",
        "--osl",
        "250",
        "--ttft",
        "500ms",
        "--tpot",
        "25ms",
        "--tpm",
        "6M",
    )
    # TPmax(2000) = 10000 - 2000 / 3 tok/s; budget 0.45 s.
    assert data["prefill"]["max_tps"] == pytest.approx(10000 - 2000 / 3)
    assert data["prefill"]["effective_input_tps"] == pytest.approx(10000 - 2000 / 3 - 2000 / 0.45)
    assert data["allocation"]["gpus"] == (
        data["allocation"]["prefill_instances"] + 2 * data["allocation"]["decode_instances"]
    )


def test_theory_only_and_gpu_overrides(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(
        capsys,
        "--prefill-tps",
        "25k",
        "--decode-tps",
        "1700",
        "--prefill-gpus",
        "4",
        "--decode-gpus",
        "2",
    )
    assert data["slo"] is None and data["decode"]["batch"] is None
    assert data["allocation"]["gpus"] == 4 * 4 + 4 * 2


def test_prefix_hit_rate_warns_when_outside_the_measured_isl(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "size", "--json", "--prefix-hit-rate", "0.5")
    assert code == 0
    assert json.loads(out)["prefill"]["isl_tokens"] == 3072
    assert "warning: prefill TPmax was measured for ISL 6144..6144" in err


def test_table_output_shows_the_decision(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "size", "--tpm", "3M")
    assert code == 0
    assert "Plan: 2P3D" in out


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (
            ["--ttft", "300ms"],
            EXIT_INFEASIBLE,
            "set the TTFT SLO above 0.317 s",
        ),
        (["--tpot", "10ms"], EXIT_INFEASIBLE, "below the smallest measured TPOT 12.8 ms"),
        (["--tpm", "5M", "--rps", "3"], EXIT_BAD_INPUT, "got --tpm and --rps"),
        (["--ttft", "2"], EXIT_BAD_INPUT, "--ttft: '2' has no unit"),
        (["--tpot", "20 parsecs"], EXIT_BAD_INPUT, "unknown unit 'parsecs'"),
        (["--tpm", "-5M"], EXIT_BAD_INPUT, "--tpm must be > 0"),
        (["--tpm", "5Q"], EXIT_BAD_INPUT, "--tpm: cannot read '5Q'"),
        (["--isl", "0"], EXIT_BAD_INPUT, "'--isl': 0 is not in the range"),
        (["--isl", "abc"], EXIT_BAD_INPUT, "'abc' is not a valid integer"),
        (["--prefix-hit-rate", "1"], EXIT_BAD_INPUT, "--prefix-hit-rate"),
        (["--profile", "/nonexistent.yaml"], EXIT_BAD_INPUT, "cannot read profile"),
        (["--prefill-tps", "1000"], EXIT_BAD_INPUT, "give both or neither"),
        (["--decode-table", "10:"], EXIT_BAD_INPUT, "--decode-table: cannot read '10:'"),
        (["--overhead", "-1ms"], EXIT_BAD_INPUT, "--overhead must be > 0"),
        (["--bogus"], EXIT_USAGE, "No such option '--bogus'"),
    ],
)
def test_bad_input_one_line_no_traceback(
    capsys: pytest.CaptureFixture[str], args: list[str], code: int, needle: str
) -> None:
    got, out, err = run(capsys, "size", *args)
    assert got == code
    assert out == ""
    assert needle in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_bad_profile_field_through_the_cli(
    capsys: pytest.CaptureFixture[str], profile_dict: dict[str, Any], write_yaml: Any
) -> None:
    profile_dict["decode"]["curves"][0]["points"][0]["tpot_ms"] = 0
    code, _, err = run(capsys, "size", "--profile", str(write_yaml(profile_dict)))
    assert code == EXIT_BAD_INPUT
    assert err.startswith("ConfigError: ")
    assert "decode.curves.0.points.0.tpot_ms: Input should be greater than 0 (got 0)" in err


def test_model_options(capsys: pytest.CaptureFixture[str]) -> None:
    default = run_json(capsys)
    paper = run_json(capsys, "--plan-model", "paper")
    queueing = run_json(capsys, "--plan-model", "queueing")
    assert default["model"] == "auto" and queueing["model"] == "queueing"
    # auto without a Poisson sweep in the profile plans the paper's M/M/1: same worked example
    assert default["prefill"]["queue_model"] == "M/M/1"
    for key in ("prefill_instances", "decode_instances"):
        assert default["allocation"][key] == paper["allocation"][key]
    # the fluctuating decode batch sustains a little less than the held B* on 4 instances
    assert 0.97 < default["allocation"]["max_tpm"] / paper["allocation"]["max_tpm"] < 1
    assert default["decode"]["batch"] == paper["decode"]["batch"] == 34  # B*
    assert default["decode"]["mean_batch"] < 34 and paper["decode"]["mean_batch"] is None
    assert default["prefill"]["instances"] == pytest.approx(paper["prefill"]["instances"])
    assert queueing["allocation"]["prefill_instances"] == 3  # M/D/1 for fixed ISL
    exp = run_json(capsys, "--plan-model", "queueing", "--isl-dist", "exponential")
    assert exp["prefill"]["instances"] == pytest.approx(paper["prefill"]["instances"], rel=1e-6)
    p90 = run_json(capsys, "--plan-model", "queueing", "--ttft-stat", "p90", "--routing", "pooled")
    assert p90["slo"]["ttft_stat"] == "p90"
    assert p90["prefill"]["instances"] == int(p90["prefill"]["instances"])
    rand = run_json(capsys, "--plan-model", "queueing", "--decode-routing", "random")
    assert rand["decode"]["instances"] > paper["decode"]["instances"]


def test_paper_model_with_pooling_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "size", "--plan-model", "paper", "--routing", "pooled")
    assert code == EXIT_BAD_INPUT
    assert "use --plan-model queueing" in err
