"""`pdplan simulate`, `pdplan capacity` and `pdplan size --verify` through the CLI."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from tests.cli_helpers import run, run_json

from pdplan.cli import EXIT_BAD_INPUT


def test_simulate_json_fields(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    records = tmp_path / "r.csv"
    data = run_json(
        capsys,
        "simulate",
        "--prefill",
        "3",
        "--decode",
        "4",
        "--tpm",
        "5M",
        "--requests",
        "3000",
        "--records",
        str(records),
    )
    for key in ("mean", "p90"):
        assert data["ttft_s"][key] > 0 and data["tpot_s"][key] > 0
    assert 0 <= data["slo_attainment"] <= 1
    assert data["throughput"]["total_tps"] == pytest.approx(83333, rel=0.1)
    with records.open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 3000 and set(rows[0]) >= {"arrival_s", "first_token_s", "done_s"}


def test_simulate_trace_and_distributions(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    trace = tmp_path / "t.csv"
    trace.write_text(
        "arrival_s,isl_tokens,osl_tokens\n"
        + "".join(f"{i * 0.1},{1000 + i},{50}\n" for i in range(300))
    )
    data = run_json(capsys, "simulate", "--trace", str(trace), "--prefill", "1", "--decode", "1")
    assert data["requests_measured"] == 300  # a replay: every request counts
    lengths = tmp_path / "isl.txt"
    lengths.write_text("500\n1500\n")
    for spec in ("exponential", "lognormal:0.8", "uniform", "uniform:100-200", f"file:{lengths}"):
        data = run_json(capsys, "simulate", "--isl-dist", spec, "--requests", "500")
        assert data["ttft_s"]["mean"] > 0


def test_capacity_of_the_paper_allocations(capsys: pytest.CaptureFixture[str]) -> None:
    a = run_json(capsys, "capacity", "--prefill", "3", "--decode", "3", "--requests", "5000")
    # Decode-bound like the planner's 3.99 M TPM: within 3 %.
    assert a["max_total_tps"] * 60 / 1e6 == pytest.approx(3.99, rel=0.03)
    assert a["binding"] == "tpot"
    p90 = run_json(
        capsys, "capacity", "--prefill", "3", "--decode", "3", "--requests", "5000", "--stat", "p90"
    )
    assert p90["max_total_tps"] < a["max_total_tps"]


def test_capacity_sweep_writes_a_plot(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    png = tmp_path / "s.png"
    data = run_json(
        capsys,
        "capacity",
        "--requests",
        "1000",
        "--sweep-allocations",
        "3P4D,3P3D",
        "--plot",
        str(png),
    )
    assert {row["allocation"] for row in data["sweep"]} == {"3P4D", "3P3D"}
    assert png.stat().st_size > 10_000


def test_size_verify(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "size", "--verify")
    rows = {r["allocation"]: r for r in data["verify"]}
    assert set(rows) == {"3P3D", "3P4D", "4P3D", "4P4D"}
    assert rows["4P4D"]["simulated_meets_target"]
    assert abs(rows["3P3D"]["error"]) < 0.03  # decode-bound: planner and simulator agree


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["simulate", "--isl-dist", "pareto"], EXIT_BAD_INPUT, "unknown distribution 'pareto'"),
        (["simulate", "--isl-dist", "lognormal:x"], EXIT_BAD_INPUT, "--isl-dist: bad value"),
        (["simulate", "--prefill", "0"], EXIT_BAD_INPUT, "'--prefill': 0 is not in the range"),
        (["simulate", "--trace", "/nope.csv"], EXIT_BAD_INPUT, "cannot read trace"),
        (
            ["capacity", "--sweep-allocations", "3X4"],
            EXIT_BAD_INPUT,
            "--sweep-allocations: cannot read '3X4'",
        ),
        (
            ["size", "--verify", "--prefill-tps", "1k", "--decode-tps", "1k"],
            EXIT_BAD_INPUT,
            "--prefill-tps and --verify do not go together",
        ),
    ],
)
def test_bad_input(
    capsys: pytest.CaptureFixture[str], args: list[str], code: int, needle: str
) -> None:
    got, _, err = run(capsys, *args)
    assert got == code
    assert needle in err and len(err.strip().splitlines()) == 1


def test_bad_trace_row_names_the_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    trace = tmp_path / "t.csv"
    trace.write_text("arrival_s,isl_tokens,osl_tokens\n0.1,100,10\n0.2,-5,10\n")
    code, _, err = run(capsys, "simulate", "--trace", str(trace))
    assert code == EXIT_BAD_INPUT
    assert f"{trace}:3: isl_tokens: expected a whole number of tokens" in err
