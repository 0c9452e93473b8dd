"""Profiling campaigns: run the steps, write the parts, assemble the profile.

Each ``run_*`` function measures one part against live endpoints and writes it to
``out_dir/parts/NAME.json`` as soon as it is complete; :func:`write_profile` assembles
``out_dir/profile.yaml`` from whatever parts exist (prefill and decode are required).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from pdplan.bench.aggregated import AggregatedSettings, profile_aggregated
from pdplan.bench.assemble import assemble_profile
from pdplan.bench.client import Timeouts
from pdplan.bench.decode import DecodeSettings, profile_decode
from pdplan.bench.host import cpu_summary
from pdplan.bench.overhead import OverheadSettings, profile_overhead
from pdplan.bench.prefill import PrefillSettings, profile_prefill
from pdplan.bench.prompts import PromptMode
from pdplan.bench.records import read_part, write_part
from pdplan.bench.session import Reporter, Session
from pdplan.errors import BenchmarkError
from pdplan.io import save_profile
from pdplan.schema.parts import AggregatedPart, DecodePart, OverheadPart, PartMeta, PrefillPart
from pdplan.schema.profile import Profile, ProfileMetadata

__all__ = ["run_aggregated", "run_decode", "run_overhead", "run_prefill", "write_profile"]

PartT = TypeVar("PartT", PrefillPart, AggregatedPart)


async def _engine_version(session: Session) -> str | None:
    try:
        return str((await session.client.get_json("/version"))["version"])
    except (BenchmarkError, ValueError, KeyError, TypeError):
        return None


async def _meta(session: Session) -> PartMeta:
    return PartMeta(
        model=session.model,
        url=session.base_url,
        engine_version=await _engine_version(session),
        date=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        prompt_mode=session.prompts.mode,
        cpu=cpu_summary(),
    )


async def _measure_part(
    url: str,
    out_dir: Path,
    name: str,
    measure: Callable[[Session], Awaitable[PartT]],
    *,
    seed: int,
    model: str | None,
    prompt_mode: PromptMode | None,
    reporter: Reporter | None,
    timeouts: Timeouts | None,
) -> PartT:
    """One session's measurement as a part with its metadata, written when complete."""
    async with Session(
        url,
        out_dir,
        model=model,
        prompt_mode=prompt_mode,
        seed=seed,
        reporter=reporter,
        timeouts=timeouts,
    ) as session:
        part = await measure(session)
        part = part.model_copy(update={"meta": await _meta(session)})
    write_part(out_dir, name, part)
    return part


async def run_prefill(
    url: str,
    out_dir: Path,
    settings: PrefillSettings,
    *,
    model: str | None = None,
    prompt_mode: PromptMode | None = None,
    reporter: Reporter | None = None,
    timeouts: Timeouts | None = None,
) -> PrefillPart:
    return await _measure_part(
        url, out_dir, "prefill", lambda s: profile_prefill(s, settings), seed=settings.seed,
        model=model, prompt_mode=prompt_mode, reporter=reporter, timeouts=timeouts,
    )  # fmt: skip


async def run_decode(
    url: str,
    out_dir: Path,
    settings: DecodeSettings,
    *,
    model: str | None = None,
    prompt_mode: PromptMode | None = None,
    seed: int = 42,
    reporter: Reporter | None = None,
    timeouts: Timeouts | None = None,
) -> DecodePart:
    async with Session(
        url,
        out_dir,
        model=model,
        prompt_mode=prompt_mode,
        seed=seed,
        reporter=reporter,
        timeouts=timeouts,
    ) as session:
        curve = await profile_decode(session, settings)
        meta = await _meta(session)
    previous = read_part(out_dir, "decode", DecodePart)
    shape = (settings.isl_tokens, settings.osl_tokens)
    kept = [
        c for c in (previous.curves if previous else []) if (c.isl_tokens, c.osl_tokens) != shape
    ]
    part = DecodePart(curves=[*kept, curve], meta=meta)
    write_part(out_dir, "decode", part)
    return part


async def run_aggregated(
    url: str,
    out_dir: Path,
    settings: AggregatedSettings,
    *,
    model: str | None = None,
    prompt_mode: PromptMode | None = None,
    reporter: Reporter | None = None,
    timeouts: Timeouts | None = None,
) -> AggregatedPart:
    """One aggregated engine's step-time model and rate sweep (``parts/aggregated.json``)."""
    return await _measure_part(
        url, out_dir, "aggregated", lambda s: profile_aggregated(s, settings),
        seed=settings.seed, model=model, prompt_mode=prompt_mode, reporter=reporter,
        timeouts=timeouts,
    )  # fmt: skip


async def run_overhead(
    pd_url: str,
    prefill_url: str,
    out_dir: Path,
    settings: OverheadSettings,
    *,
    model: str | None = None,
    prompt_mode: PromptMode | None = None,
    reporter: Reporter | None = None,
    timeouts: Timeouts | None = None,
) -> OverheadPart:
    common: dict[str, Any] = {"model": model, "prompt_mode": prompt_mode, "timeouts": timeouts}
    async with (
        Session(pd_url, out_dir, reporter=reporter, **common) as pd,
        Session(prefill_url, out_dir, **common) as prefill,
    ):
        part = await profile_overhead(pd, prefill, settings)
    write_part(out_dir, "overhead", part)
    return part


def write_profile(
    out_dir: Path,
    *,
    prefill_gpus: int = 1,
    decode_gpus: int = 1,
    kv_capacity_tokens: int | None = None,
    hardware: str | None = None,
    engine: str | None = None,
    source: str | None = None,
) -> tuple[Path, Profile] | None:
    """Assemble ``out_dir/profile.yaml`` from the parts; None until prefill and decode exist.

    :param source: who measured it (default: this profiler, against the parts' URLs)
    """
    prefill = read_part(out_dir, "prefill", PrefillPart)
    decode = read_part(out_dir, "decode", DecodePart)
    if prefill is None or decode is None:
        return None
    meta, decode_meta = prefill.meta or PartMeta(), decode.meta or PartMeta()
    urls = f"prefill {meta.url}, decode {decode_meta.url}"
    if meta.url == decode_meta.url:
        urls = str(meta.url)
    overhead = read_part(out_dir, "overhead", OverheadPart)
    if overhead is not None:
        urls += f", P/D path {overhead.pd_url}"
    metadata = ProfileMetadata(
        model=meta.model,
        engine=engine,
        engine_version=meta.engine_version,
        hardware=hardware,
        cpu=meta.cpu,
        date=meta.date,
        source=source or f"pdplan profile against {urls}; raw samples in records.jsonl",
    )
    profile = assemble_profile(
        prefill,
        decode,
        overhead,
        metadata,
        prefill_gpus=prefill_gpus,
        decode_gpus=decode_gpus,
        kv_capacity_tokens=kv_capacity_tokens,
    )
    aggregated = read_part(out_dir, "aggregated", AggregatedPart)
    if aggregated is not None:
        profile = profile.model_copy(update={"aggregated": aggregated.aggregated})
    path = out_dir / "profile.yaml"
    save_profile(profile, path)
    return path, profile
