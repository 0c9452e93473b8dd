"""Measured parts -> a profile that ``pdplan size`` reads. Pure: typed parts in, Profile out.

T_overhead of the profile is the fixed part of TTFT that the M/M/1 service time
``ISL / TPmax`` does not cover:

- ``client_overhead_s``: zero-load TTFT of the prefill instance minus ``ISL / TPmax``
  (HTTP, tokenization, scheduling, the single-request inefficiency), averaged over ISLs and
  clipped at 0;
- ``pd_transfer_s``: TTFT through the P/D path minus prefill-only TTFT (``profile overhead``),
  0 when it was not measured (the metadata says so).
"""

from __future__ import annotations

from pdplan.schema.parts import DecodePart, OverheadPart, PrefillPart
from pdplan.schema.profile import (
    SCHEMA_VERSION,
    DecodeProfile,
    PrefillProfile,
    Profile,
    ProfileMetadata,
)

__all__ = ["assemble_profile", "client_overhead_s", "prefill_profile"]


def client_overhead_s(part: PrefillPart) -> float:
    """Mean over ISLs of max(0, idle TTFT - ISL / TPmax)."""
    gaps = [
        max(0.0, p.idle_ttft_s - p.isl_tokens / p.max_tps)
        for p in part.max_throughput
        if p.idle_ttft_s is not None
    ]
    return sum(gaps) / len(gaps) if gaps else 0.0


def prefill_profile(
    part: PrefillPart, *, prefill_gpus: int = 1, overhead: OverheadPart | None = None
) -> PrefillProfile:
    """The profile's prefill section from a prefill part; ``overhead_s`` is the client
    overhead plus the P->D transfer (0 when not measured), its interval the transfer's."""
    client_s = client_overhead_s(part)
    transfer_s = overhead.pd_transfer_s if overhead else 0.0
    low = overhead.pd_transfer_low_s if overhead else None
    high = overhead.pd_transfer_high_s if overhead else None
    return PrefillProfile(
        gpus_per_instance=prefill_gpus,
        overhead_s=client_s + transfer_s,
        overhead_low_s=None if low is None else client_s + min(low, transfer_s),
        overhead_high_s=None if high is None else client_s + max(high, transfer_s),
        tpmax_drift=part.tpmax_drift,
        max_throughput=part.max_throughput,
        ttft_vs_rate=part.ttft_vs_rate,
    )


def assemble_profile(
    prefill: PrefillPart,
    decode: DecodePart,
    overhead: OverheadPart | None,
    metadata: ProfileMetadata,
    *,
    prefill_gpus: int = 1,
    decode_gpus: int = 1,
    kv_capacity_tokens: int | None = None,
) -> Profile:
    client_s = client_overhead_s(prefill)
    transfer_s = overhead.pd_transfer_s if overhead else 0.0
    note = f"overhead_s = client {client_s:.4f} s + P->D {transfer_s:.4f} s" + (
        "" if overhead else " (P->D not measured: run `pdplan profile overhead`)"
    )
    meta = metadata.model_copy(update={"notes": "; ".join(n for n in (metadata.notes, note) if n)})
    return Profile(
        schema_version=SCHEMA_VERSION,
        metadata=meta,
        prefill=prefill_profile(prefill, prefill_gpus=prefill_gpus, overhead=overhead),
        decode=DecodeProfile(
            gpus_per_instance=decode_gpus,
            kv_capacity_tokens=kv_capacity_tokens,
            curves=decode.curves,
        ),
    )
