"""Measured parts -> a profile that ``pdplan size`` reads. Pure: dicts in, Profile out.

T_overhead of the profile is the fixed part of TTFT that the M/M/1 service time
``ISL / TPmax`` does not cover:

- ``client_overhead_s``: zero-load TTFT of the prefill instance minus ``ISL / TPmax``
  (HTTP, tokenization, scheduling, the single-request inefficiency), averaged over ISLs and
  clipped at 0;
- ``pd_transfer_s``: TTFT through the P/D path minus prefill-only TTFT (``profile overhead``),
  0 when it was not measured (the metadata says so).
"""

from __future__ import annotations

from typing import Any

from pdplan.models.profile import DecodeProfile, PrefillProfile, Profile, ProfileMetadata

__all__ = ["assemble_profile", "client_overhead_s", "prefill_profile"]


def client_overhead_s(prefill_part: dict[str, Any]) -> float:
    """Mean over ISLs of max(0, idle TTFT - ISL / TPmax)."""
    gaps = [
        max(0.0, p["idle_ttft_s"] - p["isl_tokens"] / p["max_tps"])
        for p in prefill_part["max_throughput"]
        if p.get("idle_ttft_s") is not None
    ]
    return sum(gaps) / len(gaps) if gaps else 0.0


def prefill_profile(
    prefill_part: dict[str, Any],
    *,
    prefill_gpus: int = 1,
    transfer_s: float = 0.0,
    transfer_interval_s: tuple[float | None, float | None] = (None, None),
) -> PrefillProfile:
    """The profile's prefill section from a prefill part; ``overhead_s`` is the client
    overhead plus the P->D transfer (0 when not measured), its interval the transfer's."""
    client_s = client_overhead_s(prefill_part)
    low, high = transfer_interval_s
    return PrefillProfile(
        gpus_per_instance=prefill_gpus,
        overhead_s=client_s + transfer_s,
        overhead_low_s=None if low is None else client_s + min(low, transfer_s),
        overhead_high_s=None if high is None else client_s + max(high, transfer_s),
        tpmax_drift=prefill_part.get("tpmax_drift"),
        max_throughput=[_no_nones(p) for p in prefill_part["max_throughput"]],
        ttft_vs_rate=[_no_nones(p) for p in prefill_part.get("ttft_vs_rate", [])],
    )


def _no_nones(point: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in point.items() if v is not None}


def assemble_profile(
    prefill_part: dict[str, Any],
    decode_part: dict[str, Any],
    overhead_part: dict[str, Any] | None,
    metadata: ProfileMetadata,
    *,
    prefill_gpus: int = 1,
    decode_gpus: int = 1,
    kv_capacity_tokens: int | None = None,
) -> Profile:
    client_s = client_overhead_s(prefill_part)
    transfer_s = overhead_part["pd_transfer_s"] if overhead_part else 0.0
    note = f"overhead_s = client {client_s:.4f} s + P->D {transfer_s:.4f} s" + (
        "" if overhead_part else " (P->D not measured: run `pdplan profile overhead`)"
    )
    meta = metadata.model_copy(update={"notes": "; ".join(n for n in (metadata.notes, note) if n)})
    bounds = (overhead_part or {}).get("pd_transfer_interval_s") or {}
    prefill = prefill_profile(
        prefill_part,
        prefill_gpus=prefill_gpus,
        transfer_s=transfer_s,
        transfer_interval_s=(bounds.get("low"), bounds.get("high")),
    )
    decode = DecodeProfile(
        gpus_per_instance=decode_gpus,
        kv_capacity_tokens=kv_capacity_tokens,
        curves=decode_part["curves"],
    )
    return Profile(schema_version=1, metadata=meta, prefill=prefill, decode=decode)
