"""Profiling campaigns: run the steps, write the parts, assemble the profile.

Each ``run_*`` function measures one part against live endpoints and writes it to
``out_dir/parts/NAME.json`` as soon as it is complete; :func:`write_profile` assembles
``out_dir/profile.yaml`` from whatever parts exist (prefill and decode are required).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from pdplan.bench.assemble import assemble_profile
from pdplan.bench.client import Timeouts
from pdplan.bench.decode import DecodeSettings, profile_decode
from pdplan.bench.host import cpu_summary
from pdplan.bench.overhead import OverheadSettings, profile_overhead
from pdplan.bench.prefill import PrefillSettings, profile_prefill
from pdplan.bench.prompts import PromptMode
from pdplan.bench.session import Reporter, Session
from pdplan.errors import BenchmarkError
from pdplan.io import save_profile
from pdplan.models.profile import Profile, ProfileMetadata

__all__ = [
    "read_part",
    "run_decode",
    "run_overhead",
    "run_prefill",
    "write_part",
    "write_profile",
]


def write_part(out_dir: Path, name: str, data: dict[str, Any]) -> Path:
    path = out_dir / "parts" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


def read_part(out_dir: Path, name: str) -> dict[str, Any] | None:
    path = out_dir / "parts" / f"{name}.json"
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


async def _engine_version(session: Session) -> str | None:
    try:
        return str((await session.client.get_json("/version"))["version"])
    except (BenchmarkError, ValueError, KeyError, TypeError):
        return None


async def _meta(session: Session) -> dict[str, Any]:
    return {
        "model": session.model,
        "url": session.base_url,
        "engine_version": await _engine_version(session),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "prompt_mode": session.prompts.mode,
        "cpu": cpu_summary(),
    }


async def run_prefill(
    url: str,
    out_dir: Path,
    settings: PrefillSettings,
    *,
    model: str | None = None,
    prompt_mode: PromptMode | None = None,
    reporter: Reporter | None = None,
    timeouts: Timeouts | None = None,
) -> dict[str, Any]:
    async with Session(
        url,
        out_dir,
        model=model,
        prompt_mode=prompt_mode,
        seed=settings.seed,
        reporter=reporter,
        timeouts=timeouts,
    ) as session:
        part = await profile_prefill(session, settings)
        part["meta"] = await _meta(session)
    write_part(out_dir, "prefill", part)
    return part


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
) -> dict[str, Any]:
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
    previous = read_part(out_dir, "decode") or {"curves": []}
    shape = (settings.isl_tokens, settings.osl_tokens)
    curves = [c for c in previous["curves"] if (c["isl_tokens"], c["osl_tokens"]) != shape]
    part = {"curves": [*curves, curve], "meta": meta}
    write_part(out_dir, "decode", part)
    return part


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
) -> dict[str, Any]:
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
) -> tuple[Path, Profile] | None:
    """Assemble ``out_dir/profile.yaml`` from the parts; None until prefill and decode exist."""
    prefill, decode = read_part(out_dir, "prefill"), read_part(out_dir, "decode")
    if prefill is None or decode is None:
        return None
    meta, decode_meta = prefill.get("meta", {}), decode.get("meta", {})
    urls = f"prefill {meta.get('url')}, decode {decode_meta.get('url')}"
    if meta.get("url") == decode_meta.get("url"):
        urls = str(meta.get("url"))
    overhead = read_part(out_dir, "overhead")
    if overhead is not None and overhead.get("pd_url"):
        urls += f", P/D path {overhead['pd_url']}"
    metadata = ProfileMetadata(
        model=meta.get("model"),
        engine=engine,
        engine_version=meta.get("engine_version"),
        hardware=hardware,
        cpu=meta.get("cpu"),
        date=meta.get("date"),
        source=f"pdplan profile against {urls}; raw samples in records.jsonl",
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
    path = out_dir / "profile.yaml"
    save_profile(profile, path)
    return path, profile
