"""T_overhead: TTFT through the P/D path minus prefill-only TTFT, at low load.

Requests alternate between the two endpoints, one at a time with idle gaps, so neither
queues; the difference of mean TTFTs is the P->D part of the overhead (KV-cache transfer,
router hop, the decode instance's first step).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from pdplan.bench.records import RequestRecord
from pdplan.bench.session import Session
from pdplan.quantiles import Distribution, difference_interval
from pdplan.schema.parts import OverheadPart

__all__ = ["OverheadSettings", "profile_overhead"]


@dataclass(frozen=True)
class OverheadSettings:
    isl_tokens: int
    requests: int = 20
    warmup_requests: int = 2
    gap_s: float = 0.1


async def profile_overhead(pd: Session, prefill: Session, s: OverheadSettings) -> OverheadPart:
    """The overhead part: ``pd_transfer_s`` (with its interval) and both TTFT summaries."""
    step = f"overhead/isl={s.isl_tokens}"
    if (done := pd.finished(step)) is not None:
        return OverheadPart.model_validate(done["part"])
    for session in (pd, prefill):
        await session.sequential(f"{step}/warmup", s.isl_tokens, 2, s.warmup_requests)
    pd_records: list[RequestRecord] = []
    prefill_records: list[RequestRecord] = []
    pd.reporter.step_started(step, 2 * s.requests)
    for _ in range(s.requests):
        for session, into, max_tokens in ((pd, pd_records, 2), (prefill, prefill_records, 1)):
            record = await session.request(f"{step}/{session.base_url}", s.isl_tokens, max_tokens)
            into.append(record)
            pd.reporter.request_done(record)
            await asyncio.sleep(s.gap_s)
    pd.check_failures(step, pd_records)
    prefill.check_failures(step, prefill_records)
    pd_ttft = Distribution.of(r.ttft_s for r in pd_records if r.ok)
    prefill_ttft = Distribution.of(r.ttft_s for r in prefill_records if r.ok)
    difference = difference_interval(
        [r.ttft_s for r in pd_records if r.ok and r.ttft_s is not None],
        [r.ttft_s for r in prefill_records if r.ok and r.ttft_s is not None],
    )
    assert pd_ttft is not None and prefill_ttft is not None  # check_failures passed
    part = OverheadPart(
        isl_tokens=s.isl_tokens,
        pd_url=pd.base_url,
        prefill_url=prefill.base_url,
        pd_ttft_s=pd_ttft,
        prefill_ttft_s=prefill_ttft,
        pd_transfer_s=max(0.0, pd_ttft.mean - prefill_ttft.mean),
        pd_transfer_low_s=max(0.0, difference.low) if difference else None,
        pd_transfer_high_s=max(0.0, difference.high) if difference else None,
    )
    pd.save_step(step, {"part": part.model_dump(mode="json")})
    return part
