"""How prompts reach the engine (the names the CLI offers; :mod:`pdplan.bench.prompts` makes
them). A module of its own so that the command line imports no network code to list them."""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["PROMPT_MODES", "PromptMode"]

#: ``text``: prompts the server tokenizes (sized by its /tokenize); ``chat``: the same as a
#: chat message; ``ids``: token-id prompts.
PromptMode = Literal["text", "chat", "ids"]
PROMPT_MODES: tuple[str, ...] = get_args(PromptMode)
