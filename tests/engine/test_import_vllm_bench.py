"""The ``vllm bench serve`` fixture regenerated against the real vLLM (CPU build) and imported:
the files of tests/data/imports/vllm-bench come from this command, and today's vLLM still
writes files ``pdplan import`` turns into a profile that plans."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pdplan import SLO, Workload, load_profile, size
from pdplan.io import load_bench_runs

pytestmark = pytest.mark.engine

ROOT = Path(__file__).parents[2]


def test_vllm_bench_serve_files_import_into_a_profile(vllm_url: str, tmp_path: Path) -> None:
    python = os.environ.get("PDPLAN_VLLM_PYTHON", str(ROOT / ".venv-vllm" / "bin" / "python"))
    if not Path(python).exists():
        pytest.skip(f"no vLLM environment at {python} (scripts/vllm_cpu.sh install)")
    out = tmp_path / "vllm-bench"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_fixtures.py"), "vllm", "--url", vllm_url,
         "--python", python, "--tokenizer", str(ROOT / ".tiny-llama"), "--prompts", "60",
         "--out", str(out)],
        check=True, timeout=1200,
    )  # fmt: skip
    files = sorted(out.glob("*.json"))
    # the same files as the committed fixture, in the same format
    assert {p.name for p in files} == {
        p.name for p in (ROOT / "tests/data/imports/vllm-bench").glob("*.json")
    }
    for path in files:
        (run,) = load_bench_runs(path)
        assert run.tool == "vllm-bench" and run.requests > 0 and run.ttft_s is not None
    done = subprocess.run(
        [sys.executable, "-m", "pdplan", "import", *map(str, files), "--out", str(tmp_path / "p"),
         "--json"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    result = json.loads(done.stdout)
    print("\n".join(result["used"] + result["notes"]))
    assert result["profile"] and result["missing"] == []
    profile = load_profile(result["profile"])
    assert len(profile.prefill.ttft_vs_rate) == 3
    assert [p.batch for p in profile.decode.curves[0].points] == [1, 2, 4, 8, 16]
    tpot_s = profile.decode.curves[0].points[-1].tpot_ms / 1000
    plan = size(
        profile,
        Workload.from_rps(isl_tokens=256, osl_tokens=32, rate_rps=4.0),
        SLO(ttft_s=0.5, tpot_s=tpot_s),
    )
    assert plan.allocation.meets_target
