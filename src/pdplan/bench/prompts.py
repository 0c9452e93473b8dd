"""Prompts of an exact token length, unique per request (so prefix caching cannot help).

``ids`` mode sends token-id prompts (vLLM, SGLang and llama.cpp accept a list of ints as
``prompt``): random ids from a low, safe range of any vocabulary. ``text`` mode, for engines
that refuse ids, builds random-word text and trims it with the engine's ``/tokenize``. The
engine's ``usage.prompt_tokens`` is recorded either way, so any mismatch is visible.
"""

from __future__ import annotations

import random
from typing import Literal

from pdplan.bench.client import EngineClient
from pdplan.errors import BenchmarkError

__all__ = ["PromptMode", "PromptSource"]

PromptMode = Literal["ids", "text"]

_ID_LOW, _ID_HIGH = 100, 1000
_WORDS = tuple(
    "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november "
    "oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu red green "
    "blue amber river stone cloud forest ocean planet signal vector kernel matrix cache".split()
)


class PromptSource:
    """Makes prompts of ``isl`` tokens; each call gives a fresh random prompt."""

    def __init__(self, mode: PromptMode, rng: random.Random) -> None:
        self.mode = mode
        self.rng = rng

    def ids(self, isl: int) -> list[int]:
        return [self.rng.randrange(_ID_LOW, _ID_HIGH) for _ in range(isl)]

    async def make(self, isl: int, client: EngineClient, model: str) -> list[int] | str:
        if self.mode == "ids":
            return self.ids(isl)
        return await self._calibrated_text(isl, client, model)

    async def _count(self, client: EngineClient, model: str, text: str) -> int:
        try:
            reply = await client.post_json("/tokenize", {"model": model, "prompt": text})
            return int(reply["count"])
        except (BenchmarkError, KeyError, ValueError, TypeError) as exc:
            raise BenchmarkError(
                f"{client.base_url}/tokenize failed ({exc}); text prompts need it: "
                "use an engine that accepts token-id prompts or exposes /tokenize"
            ) from None

    async def _calibrated_text(self, isl: int, client: EngineClient, model: str) -> str:
        """Random words cut to exactly ``isl`` tokens by the engine's own tokenizer.

        Binary search on the number of words (token count grows with words), then pad with
        one-token filler until the count is exact; the closest count below ``isl`` otherwise.
        """
        words = [self.rng.choice(_WORDS) for _ in range(2 * isl + 8)]
        lo, hi = 1, len(words)  # invariant: count(words[:lo]) <= isl (or lo == 1)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if await self._count(client, model, " ".join(words[:mid])) <= isl:
                lo = mid
            else:
                hi = mid - 1
        text = " ".join(words[:lo])
        count = await self._count(client, model, text)
        for _ in range(8):
            if count >= isl:
                break
            padded = text + " x"
            padded_count = await self._count(client, model, padded)
            if padded_count > isl:
                break
            text, count = padded, padded_count
        return text
