"""Prompts of an exact token length, unique per request (so prefix caching cannot help).

Three modes, as clients call engines:

- ``text`` (the default): text that the server tokenizes, as production clients send it, cut
  to exactly ``ISL`` tokens by the engine's own ``/tokenize``. pdplan first finds, once per
  session, words that are one token each after a space (with the engine's tokenizer), then
  draws each prompt as random such words and checks its count with one ``/tokenize`` call,
  adding or dropping words until it is exact. Counts include the tokens the server adds (a
  BOS), as ``usage.prompt_tokens`` does.
- ``chat``: the same text as one user message to ``/v1/chat/completions``; the count is of the
  templated conversation (``/tokenize`` with ``messages``), so ``ISL`` includes the template.
- ``ids``: token-id prompts (vLLM, SGLang and llama.cpp accept a list of ints as ``prompt``):
  random ids from a low, safe range of any vocabulary. No tokenization in the server.

Sessions make a step's prompts before the step starts (:meth:`PromptSource.prepare`), so the
``/tokenize`` calls do not load the server while it is measured. The engine's
``usage.prompt_tokens`` is recorded either way, so any mismatch is visible.
"""

from __future__ import annotations

import random
from typing import Any

from pdplan.bench.client import EngineClient
from pdplan.bench.modes import PROMPT_MODES, PromptMode
from pdplan.errors import BenchmarkError

__all__ = ["PROMPT_MODES", "Prompt", "PromptMode", "PromptSource"]

Prompt = list[int] | str

_ID_LOW, _ID_HIGH = 100, 1000
#: Candidate words; those that are one token after a space in the engine's tokenizer are used.
_CANDIDATES = tuple(
    "the of and to in is it that for on as with be by this not are or at from an if else def "
    "return self import class none true false value data name file line list type self path "
    "time set get new end key error test code print size read write open call args kwargs "
    "string object result first last next start stop item index count node text mode base "
    "alpha bravo charlie delta echo hotel india kilo lima mike oscar papa romeo sierra tango "
    "victor red green blue river stone cloud forest ocean planet signal vector kernel matrix "
    "cache table field user group order state level point model range frame block token".split()
)
_MIN_WORDS = 8  # fewer single-token words than this and prompts would repeat their prefixes
_ADJUST_ROUNDS = 12


class PromptSource:
    """Makes prompts of ``isl`` tokens; each call gives a fresh random prompt."""

    def __init__(self, mode: PromptMode, rng: random.Random) -> None:
        self.mode = mode
        self.rng = rng
        self._words: list[str] | None = None
        self._pool: dict[int, list[Prompt]] = {}

    def ids(self, isl: int) -> list[int]:
        return [self.rng.randrange(_ID_LOW, _ID_HIGH) for _ in range(isl)]

    async def prepare(self, isls: list[int], client: EngineClient, model: str) -> None:
        """Make a prompt for each of ``isls`` now (before a step starts timing)."""
        for isl in isls:
            self._pool.setdefault(isl, []).append(await self._fresh(isl, client, model))

    async def make(self, isl: int, client: EngineClient, model: str) -> Prompt:
        """A prepared prompt of ``isl`` tokens, or a new one."""
        pool = self._pool.get(isl)
        if pool:
            return pool.pop()
        return await self._fresh(isl, client, model)

    async def _fresh(self, isl: int, client: EngineClient, model: str) -> Prompt:
        if self.mode == "ids":
            return self.ids(isl)
        words = await self._single_token_words(client, model)
        text = [self.rng.choice(words) for _ in range(isl)]
        for _ in range(_ADJUST_ROUNDS):
            count = await self._count(client, model, " ".join(text))
            if count == isl:
                return " ".join(text)
            if count > isl:
                del text[max(1, len(text) - (count - isl)) :]
            else:
                text += [self.rng.choice(words) for _ in range(isl - count)]
        raise BenchmarkError(
            f"{client.base_url}: could not make a text prompt of exactly {isl} tokens (the "
            f"tokenizer merges the words); use --prompt-mode ids"
        )

    async def _count(self, client: EngineClient, model: str, text: str) -> int:
        body: dict[str, Any] = {"model": model}
        if self.mode == "chat":
            body["messages"] = [{"role": "user", "content": text}]
            body["add_generation_prompt"] = True
        else:
            body["prompt"] = text
        try:
            reply = await client.post_json("/tokenize", body)
            count = reply["count"]
        except (BenchmarkError, KeyError, TypeError) as exc:
            raise BenchmarkError(
                f"{client.base_url}/tokenize failed ({exc}); text prompts are sized by the "
                "engine's tokenizer: use an engine that exposes /tokenize, or --prompt-mode ids"
            ) from None
        if not isinstance(count, int) or isinstance(count, bool):
            raise BenchmarkError(f"{client.base_url}/tokenize: count is {count!r}, not a number")
        return count

    async def _single_token_words(self, client: EngineClient, model: str) -> list[str]:
        """Words that add exactly one token after a space (found once per session)."""
        if self._words is None:
            anchor = "the"
            base = await self._count(client, model, anchor)
            self._words = [
                w
                for w in _CANDIDATES
                if await self._count(client, model, f"{anchor} {w}") == base + 1
            ]
            if len(self._words) < _MIN_WORDS:
                raise BenchmarkError(
                    f"{client.base_url}: only {len(self._words)} of {len(_CANDIDATES)} "
                    "candidate words are one token in this tokenizer; use --prompt-mode ids"
                )
        return self._words
