"""Imported runs -> profile parts, and ``pdplan import`` / ``pdplan compare`` end to end, on
the vllm bench serve files of tests/data/imports/vllm-bench (written by the real tool)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli_helpers import run, run_json

from pdplan.io import load_bench_runs, load_profile
from pdplan.measured.compare import compare_runs
from pdplan.measured.to_profile import parts_from_runs
from pdplan.schema.workload import SLO

VLLM = Path(__file__).parents[2] / "data" / "imports" / "vllm-bench"


def _runs(pattern: str = "*.json") -> list:
    return [r for p in sorted(VLLM.glob(pattern)) for r in load_bench_runs(p)]


def _raw(name: str) -> dict:
    return json.loads((VLLM / name).read_text(encoding="utf-8"))


def test_sweeps_become_tpmax_the_rate_points_and_the_decode_curve() -> None:
    got = parts_from_runs(_runs())
    assert got.prefill is not None and got.decode is not None and got.missing == []
    (tpmax,) = got.prefill.max_throughput
    loaded = {c: _raw(f"tpmax-c{c}.json") for c in (2, 4, 8)}
    best = max(loaded.values(), key=lambda r: r["total_input_tokens"] / r["duration"])
    assert tpmax.max_tps == pytest.approx(best["total_input_tokens"] / best["duration"])
    assert tpmax.concurrency == best["max_concurrency"]
    assert tpmax.idle_ttft_s == pytest.approx(_raw("tpmax-c1.json")["mean_ttft_ms"] / 1000)
    rates = [p.rate_rps for p in got.prefill.ttft_vs_rate]
    assert sorted(rates) == [20.0, 35.0, 50.0]
    (curve,) = got.decode.curves
    assert (curve.isl_tokens, curve.osl_tokens) == (tpmax.isl_tokens, 32)
    assert [p.batch for p in curve.points] == [1, 2, 4, 8, 16]
    for p in curve.points:
        assert p.tpot_ms == pytest.approx(_raw(f"decode-c{p.batch}.json")["mean_tpot_ms"])
    assert [r.rate_rps for r in got.steps] == [4.0, 8.0]


def test_what_the_runs_cannot_give_is_missing_not_invented() -> None:
    prefill_only = parts_from_runs(_runs("tpmax-*.json"))
    assert prefill_only.decode is None and prefill_only.prefill is not None
    assert prefill_only.prefill.ttft_vs_rate == []
    assert any(m.startswith("decode:") for m in prefill_only.missing)
    assert any("no TTFT-vs-rate point" in n for n in prefill_only.notes)
    decode_only = parts_from_runs(_runs("decode-*.json"))
    assert decode_only.prefill is None and any(
        m.startswith("prefill:") for m in decode_only.missing
    )


def test_import_writes_a_profile_that_plans(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    files = [str(p) for p in sorted(VLLM.glob("*.json"))]
    out = run_json(capsys, "import", *files, "--out", str(tmp_path), "--hardware", "2-core CPU")
    assert out["profile"] and out["missing"] == []
    profile = load_profile(out["profile"])
    assert "vllm bench serve" in (profile.metadata.source or "")
    assert profile.prefill.ttft_vs_rate and profile.decode.curves
    plan = run_json(capsys, "size", "--profile", out["profile"], "--isl", "256", "--osl", "32",
                    "--rps", "5", "--ttft", "200ms", "--tpot", "20ms")  # fmt: skip
    assert plan["allocation"]["meets_target"]
    code, _, _ = run(capsys, "import", files[0], "--out", str(tmp_path / "p"))
    assert code == 0  # one TPmax run: parts only, the missing decode named
    assert not (tmp_path / "p" / "profile.yaml").exists()


def test_compare_puts_each_step_beside_its_prediction(tmp_path: Path) -> None:
    runs = _runs()
    got = parts_from_runs(runs)
    assert got.prefill is not None and got.decode is not None
    profile = load_profile(_write_profile(tmp_path, [str(p) for p in sorted(VLLM.glob("*.json"))]))
    result = compare_runs(profile, got.steps, SLO(ttft_s=0.2, tpot_s=0.02), 1, 1, requests=2000)
    assert [s.rate_rps for s in result.steps] == [4.0, 8.0]
    for step in result.steps:
        raw = _raw(f"step-r{step.rate_rps:g}.json")
        assert step.measured_ttft_mean_s == pytest.approx(raw["mean_ttft_ms"] / 1000)
        assert step.measured_tpot_mean_s == pytest.approx(raw["mean_tpot_ms"] / 1000)
        assert step.predicted_ttft_mean_s is not None and step.predicted_ttft_mean_s > 0
        err = step.errors["ttft_mean"]
        assert err == pytest.approx(step.predicted_ttft_mean_s / step.measured_ttft_mean_s - 1)
    assert result.verdicts_known == 2
    json.dumps(result.model_dump(mode="json"), allow_nan=False)


def _write_profile(tmp_path: Path, files: list[str]) -> str:
    import subprocess
    import sys

    subprocess.run(
        [sys.executable, "-m", "pdplan", "import", *files, "--out", str(tmp_path / "imp")],
        check=True, capture_output=True,
    )  # fmt: skip
    return str(tmp_path / "imp" / "profile.yaml")


def test_compare_without_an_open_loop_step_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    profile = _write_profile(tmp_path, [str(p) for p in sorted(VLLM.glob("*.json"))])
    code, _, err = run(capsys, "compare", "--profile", profile, "--measured",
                       str(VLLM / "decode-c4.json"))  # fmt: skip
    assert code != 0 and "no open-loop step" in err and len(err.strip().splitlines()) == 1
