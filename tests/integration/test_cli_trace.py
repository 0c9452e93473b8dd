"""`pdplan trace`, `pdplan size --trace`, and traces and arrivals on simulate/capacity/size."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli_helpers import run, run_json

from pdplan.cli import EXIT_BAD_INPUT

TRACES = Path(__file__).parents[1] / "data" / "traces"
AZURE = str(Path(__file__).parents[2] / "examples" / "traces" / "azure-llm-inference-conv-2023.csv")


def test_trace_summary_json_and_plot(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    png = tmp_path / "trace.png"
    data = run_json(
        capsys, "trace", str(TRACES / "mooncake.jsonl"), "--time-scale", "2", "--plot", str(png)
    )
    assert data["requests"] == 6 and data["span_s"] == pytest.approx(5.5)
    assert data["format"] == "mooncake" and data["prefix_blocks_seen"] == pytest.approx(4 / 11)
    assert [r["window_s"] for r in data["rates"]] == [10.0, 60.0, 300.0]
    assert png.stat().st_size > 10_000
    code, out, _ = run(capsys, "trace", AZURE, "--time-scale", "4", "--trace-slice", "0:600")
    assert code == 0 and "x4" in out and "inter-arrival" in out and "2,867 requests" in out


def test_size_for_a_trace_replays_what_it_recommends(capsys: pytest.CaptureFixture[str]) -> None:
    # The example: Azure conversation x4, embedded profile, mean TTFT 2 s, TPOT 20 ms.
    data = run_json(capsys, "size", "--trace", AZURE, "--time-scale", "4")
    alloc = data["allocation"]
    assert {"prefill_instances", "decode_instances", "gpus"} <= set(alloc)
    assert (alloc["prefill_instances"], alloc["decode_instances"]) == (2, 3)
    assert alloc["meets_slo"] and data["replay"] == alloc
    assert data["analytic_allocation"]["allocation"] == "2P3D"
    mean_rate = data["mean_rate_allocation"]
    assert mean_rate["allocation"] == "1P3D" and not mean_rate["meets_slo"]
    assert mean_rate["ttft_s"]["mean"] > 10  # the mean-rate plan misses the 2 s SLO badly
    assert data["trace"]["requests"] == 19366
    # every allocation it considered replays the same with `pdplan simulate --trace`
    for tried in data["searched"]:
        sim = run_json(
            capsys,
            "simulate",
            "--trace",
            AZURE,
            "--time-scale",
            "4",
            "--prefill",
            str(tried["prefill_instances"]),
            "--decode",
            str(tried["decode_instances"]),
        )
        assert sim["ttft_s"] == tried["ttft_s"] and sim["tpot_s"] == tried["tpot_s"]
        assert sim["meets_slo"] == tried["meets_slo"]


def test_size_for_a_trace_per_window(capsys: pytest.CaptureFixture[str]) -> None:
    whole = run_json(capsys, "size", "--trace", AZURE, "--time-scale", "4")
    windowed = run_json(
        capsys, "size", "--trace", AZURE, "--time-scale", "4", "--slo-window", "1min"
    )
    assert windowed["slo_window_s"] == 60.0
    assert windowed["allocation"]["windows"]["failed"] == 0
    assert windowed["allocation"]["gpus"] >= whole["allocation"]["gpus"]
    code, out, _ = run(capsys, "size", "--trace", AZURE, "--time-scale", "4")
    assert code == 0 and "Recommendation: 2P3D" in out and "mean rate" in out


def test_arrivals_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    poisson = run_json(capsys, "size", "--rps", "12", "--isl", "6144", "--osl", "512")
    bursty = run_json(capsys, "size", "--rps", "12", "--arrivals", "gamma:4")
    assert bursty["prefill"]["queue_model"].startswith("G/G/1")
    assert bursty["prefill"]["arrival_scv"] == 4.0
    assert bursty["prefill"]["instances"] > poisson["prefill"]["instances"]
    sim = run_json(capsys, "simulate", "--arrivals", "gamma:4", "--requests", "2000")
    assert sim["workload"]["arrivals"] == {"kind": "gamma", "scv": 4.0}
    cap = run_json(
        capsys, "capacity", "--arrivals", "gamma:4", "--requests", "2000", "--decode", "8"
    )
    calm = run_json(capsys, "capacity", "--requests", "2000", "--decode", "8")
    assert cap["max_total_tps"] < calm["max_total_tps"]
    # a trace's lengths with Poisson arrivals at its mean rate
    mixed = run_json(
        capsys,
        "simulate",
        "--trace",
        AZURE,
        "--time-scale",
        "4",
        "--arrivals",
        "poisson",
        "--requests",
        "2000",
    )
    assert mixed["requests_measured"] == 1800  # generated: 10 % warm-up left out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["size", "--trace", AZURE, "--isl", "100"], "--isl and --trace"),
        (["simulate", "--trace", AZURE, "--tpm", "1M"], "--tpm and --trace"),
        (["simulate", "--time-scale", "2"], "--time-scale applies to a trace"),
        (["size", "--arrivals", "trace"], "--arrivals trace replays a trace"),
        (["size", "--arrivals", "gamma:x"], "--arrivals: cannot read SCV 'x'"),
        (["size", "--arrivals", "gamma:1000"], "out of range"),
        (["size", "--slo-window", "5min"], "--slo-window applies to a trace replay"),
        (["size", "--trace", AZURE, "--time-scale", "0"], "--time-scale: expected a finite"),
        (["size", "--trace", AZURE, "--time-scale", "2", "--trace-rps", "3"], "give one of"),
        (["trace", AZURE, "--trace-slice", "5"], "--trace-slice: cannot read '5'"),
        (["trace", str(TRACES / "README.md")], "not a trace format pdplan reads"),
        (["size", "--trace", AZURE, "--verify"], "--verify and --trace"),
        (["size", "--trace", AZURE, "--export", "vllm", "--json"], "--export and --json"),
    ],
)
def test_bad_combinations_one_line(
    capsys: pytest.CaptureFixture[str], args: list[str], needle: str
) -> None:
    code, out, err = run(capsys, *args)
    assert code != 0 and out == ""
    assert needle in err and len(err.strip().splitlines()) == 1, err


def test_size_trace_json_is_strict(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "size", "--trace", str(TRACES / "pdplan.csv"), "--json")
    if code == 0:
        json.loads(out, parse_constant=lambda c: pytest.fail(f"non-strict JSON: {c}"))
    else:
        assert code in (EXIT_BAD_INPUT, 3)


def test_size_trace_exports_the_recommended_allocation(capsys: pytest.CaptureFixture[str]) -> None:
    trace = str(TRACES / "pdplan.csv")
    code, out, _ = run(capsys, "size", "--trace", trace, "--json")
    assert code == 0
    recommended = json.loads(out)["allocation"]
    code, script, err = run(
        capsys, "size", "--trace", trace, "--export", "sglang", "--served-model", "org/m"
    )
    assert code == 0, err
    assert f"pdplan plan {recommended['allocation']} for the trace" in script
    assert script.count("'prefill ") == recommended["prefill_instances"]
    assert script.count("'decode ") == recommended["decode_instances"]
