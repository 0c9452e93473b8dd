"""`pdplan profile` against a real vLLM (CPU build), checked against the engine's /metrics."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from pdplan import SLO, Workload, load_profile, size
from pdplan.bench import profiler
from pdplan.bench.assemble import prefill_profile
from pdplan.bench.client import EngineClient
from pdplan.bench.decode import DecodeSettings
from pdplan.bench.prefill import PrefillSettings
from pdplan.bench.prometheus import delta, fetch_metrics
from pdplan.bench.records import read_jsonl
from pdplan.engine.variability import fit_engine_scv

pytestmark = pytest.mark.engine


def metrics(url: str) -> dict[str, float]:
    async def go() -> dict[str, float]:
        async with EngineClient(url) as client:
            return await fetch_metrics(client)

    return asyncio.run(go())


def rows(out: Path) -> list[dict[str, Any]]:
    return read_jsonl(out / "records.jsonl")


#: Below this prefill speed (tok/s) the engine tests use shorter prompts and fewer requests.
SLOW_TPS = 8_000


def test_prefill_profile_agrees_with_the_engine(
    vllm_url: str, tmp_path: Path, prefill_tps: float
) -> None:
    before = metrics(vllm_url)
    fast = prefill_tps >= SLOW_TPS
    settings = PrefillSettings(
        min_duration_s=0,
        isls=(256, 1024) if fast else (128, 384),
        requests=32 if fast else 16,
        loads=(0.5,),
        sweep_requests=40 if fast else 24,
    )
    part = asyncio.run(profiler.run_prefill(vllm_url, tmp_path, settings))
    after = metrics(vllm_url)
    records = rows(tmp_path)
    sent_prompt = sum(r["prompt_tokens"] or 0 for r in records)
    ok = [r for r in records if r["error"] is None]
    print(part.model_dump_json(indent=1), f"requests {len(records)}")
    # Token counts: ours (usage blocks) against the engine's counters, exactly.
    assert delta(before, after, "vllm:prompt_tokens_total") == sent_prompt
    assert delta(before, after, "vllm:generation_tokens_total") == sum(
        r["completion_tokens"] or 0 for r in records
    )
    assert delta(before, after, "vllm:request_success_total") == len(ok) == len(records)
    # Exact prompt lengths, and unique prompts: the prefix cache must not help.
    assert all(r["prompt_tokens"] == r["isl_tokens"] for r in records)
    queries = delta(before, after, "vllm:prefix_cache_queries_total")
    assert delta(before, after, "vllm:prefix_cache_hits_total") <= 0.02 * queries
    # Our TTFT includes HTTP and detokenization, so it is at least the engine's, and close.
    engine_ttft = delta(before, after, "vllm:time_to_first_token_seconds_sum") / delta(
        before, after, "vllm:time_to_first_token_seconds_count"
    )
    ours = sum(r["ttft_s"] for r in ok) / len(ok)
    assert engine_ttft * 0.95 <= ours <= engine_ttft + 0.030
    by_isl = {p.isl_tokens: p for p in part.max_throughput}
    for isl, point in by_isl.items():
        assert point.max_tps > 0
        assert point.idle_ttft_s is not None and point.idle_ttft_s >= isl / point.max_tps * 0.5
    # The Poisson sweep yields the engine's service variability for the planner (one
    # 40-request point per ISL: noisy, so only a sane range is asserted; README has figures).
    fit = fit_engine_scv(prefill_profile(part))
    print(json.dumps({"engine_scv": fit.scv if fit else None}))
    assert fit is not None and len(fit.point_scv) == 2  # both ISLs' points usable
    assert fit.points in (1, 2)  # the median is over those at >= 50 % utilization
    assert 0 <= fit.scv < 20


def test_decode_profile_agrees_with_the_engine(vllm_url: str, tmp_path: Path) -> None:
    batch = 4
    settings = DecodeSettings(
        min_duration_s=0,
        isl_tokens=128,
        osl_tokens=64,
        batches=(batch,),
        rounds=4,
        warmup_requests=0,
    )
    asyncio.run(profiler.run_decode(vllm_url, tmp_path / "warm", settings))  # warm-up
    before = metrics(vllm_url)
    part = asyncio.run(profiler.run_decode(vllm_url, tmp_path, settings))
    after = metrics(vllm_url)
    point = part.curves[0].points[0]
    records = [r for r in rows(tmp_path) if r["step"].startswith("decode/")]
    print(part.model_dump_json(indent=1))
    generated = delta(before, after, "vllm:generation_tokens_total")
    probe = 1  # the one-token request that checks token-id prompts are accepted
    assert generated == sum(r["completion_tokens"] for r in records) + probe
    assert all(r["completion_tokens"] == 64 for r in records)
    # The engine's own per-request TPOT histogram against ours over the same requests.
    engine_tpot = delta(before, after, "vllm:request_time_per_output_token_seconds_sum") / delta(
        before, after, "vllm:request_time_per_output_token_seconds_count"
    )
    ours = sum(r["tpot_s"] for r in records) / len(records)
    assert ours == pytest.approx(engine_tpot, rel=0.15)
    # Engine iterations: decode tokens per engine step cannot exceed the batch we held.
    steps = delta(before, after, "vllm:iteration_tokens_total_count")
    print(f"engine steps {steps}, decode tokens per step {generated / steps:.2f}")
    assert generated / steps <= batch + 1e-9
    assert generated / steps >= 0.5 * batch
    # Measured tokens/s against batch / TPOT: both reported; the measured one is lower.
    assert point.output_tps is not None
    assert point.output_tps <= batch / (point.tpot_ms / 1000) * 1.05


def test_profile_all_feeds_the_planner(vllm_url: str, tmp_path: Path, prefill_tps: float) -> None:
    isl = 512 if prefill_tps >= SLOW_TPS else 128
    asyncio.run(
        profiler.run_prefill(
            vllm_url,
            tmp_path,
            PrefillSettings(min_duration_s=0, isls=(isl,), concurrency=4, requests=24),
        )
    )
    asyncio.run(
        profiler.run_decode(
            vllm_url,
            tmp_path,
            DecodeSettings(min_duration_s=0, isl_tokens=isl, osl_tokens=32, batches=(1, 4, 8)),
        )
    )
    written = profiler.write_profile(tmp_path, hardware="1 CPU core")
    assert written is not None
    profile = load_profile(written[0])
    plan = size(
        profile,
        Workload.from_rps(
            isl_tokens=isl, osl_tokens=32, rate_rps=20.0 * min(1, prefill_tps / 50e3)
        ),
        SLO(ttft_s=0.5, tpot_s=profile.decode.curves[0].points[-1].tpot_ms / 1000),
    )
    assert plan.allocation.meets_target
    # The default model plans decode with the measured tok/s when it is below batch / TPOT
    # (it is on this engine: the client's gaps between requests). On 2 noisy cores the TPOT at
    # batch 8 can come out below batch 4's (CI saw it once): the running-maximum repair is then
    # announced, and a near-threshold rate can need a second instance once the batch
    # fluctuates. Nothing else is expected.
    expected = (
        "measured decode throughput",
        "measured decode TPOT falls",
        "one decode instance would need",
    )
    assert all(w.startswith(expected) for w in plan.warnings), plan.warnings
