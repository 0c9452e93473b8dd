"""One request sent and recorded, as a session or a load-generator worker sends it: the record
stamped at the send, the completion (or chat) streamed into it."""

from __future__ import annotations

from time import perf_counter
from typing import Any

from pdplan.bench.client import CHAT, COMPLETIONS, EngineClient, completion_body
from pdplan.bench.modes import PromptMode
from pdplan.bench.records import RequestRecord

__all__ = ["new_record", "send_request"]


def new_record(
    step: str, isl: int, max_tokens: int, run_id: str, extra: dict[str, Any]
) -> RequestRecord:
    """The record of a request about to leave (its send time is now)."""
    return RequestRecord(
        step=step,
        isl_tokens=isl,
        max_tokens=max_tokens,
        t_send_s=perf_counter(),
        run_id=run_id,
        extra=extra,
    )


async def send_request(
    client: EngineClient, model: str, mode: PromptMode, record: RequestRecord, prompt: Any
) -> None:
    """Stream one completion (chat in ``chat`` mode) into ``record``."""
    chat = mode == "chat"
    body = completion_body(model, prompt, record.max_tokens, chat=chat)
    await client.stream_completion(body, record, CHAT if chat else COMPLETIONS)
