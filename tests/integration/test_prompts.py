"""Prompt modes against the fake engine: text sized by /tokenize (the default), chat, ids,
and the fall-back to ids where an engine has no /tokenize."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from tests.fakes.openai_server import FakeEngine, FakeServer

from pdplan.bench.prompts import PromptMode
from pdplan.bench.records import read_jsonl
from pdplan.bench.session import Session


def _run(url: str, out: Path, mode: PromptMode | None) -> tuple[str, list[dict[str, object]]]:
    async def go() -> str:
        async with Session(url, out, prompt_mode=mode) as s:
            await s.closed_loop("step", 37, 3, concurrency=2, total=6)
            return s.prompts.mode

    used = asyncio.run(go())
    return used, [r for r in read_jsonl(out / "records.jsonl") if r["step"] == "step"]


@pytest.mark.parametrize("mode", [None, "text", "chat", "ids"])
def test_every_mode_sends_exactly_the_asked_length(tmp_path: Path, mode: PromptMode | None) -> None:
    with FakeServer(FakeEngine()) as server:
        used, records = _run(server.url, tmp_path, mode)
        chats = server.engine.chats
    assert used == (mode or "text")  # text where the engine sizes it: the default
    assert len(records) == 6 and all(r["error"] is None for r in records)
    # the fake counts words, plus two for its chat template: the engine saw exactly 37 tokens
    assert {r["prompt_tokens"] for r in records} == {37}
    assert (chats > 0) == (used == "chat")


def test_text_prompts_are_unique(tmp_path: Path) -> None:
    seen: list[str] = []

    async def go(url: str) -> None:
        async with Session(url, tmp_path, prompt_mode="text") as s:
            for _ in range(20):
                seen.append(str(await s.prompts.make(50, s.client, str(s.model))))

    with FakeServer(FakeEngine()) as server:
        asyncio.run(go(server.url))
    assert len(set(seen)) == 20 and len({tuple(p.split()[:4]) for p in seen}) >= 15


def test_an_engine_without_tokenize_gets_token_ids(tmp_path: Path) -> None:
    with FakeServer(FakeEngine(no_tokenize=True)) as server:
        used, records = _run(server.url, tmp_path, None)
    assert used == "ids" and all(r["prompt_tokens"] == 37 for r in records)
