"""Strict JSON: a key written twice in one object is refused (Python's json keeps the last one
silently, so a profile, a trace or a benchmark file could mean something else than it says).
Pure."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["DuplicateKeyError", "strict_json"]


class DuplicateKeyError(json.JSONDecodeError):
    """A key written twice in one JSON object (a ``JSONDecodeError``: callers that catch bad
    JSON catch it too)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"the key {key!r} is written twice in one object; keep one", "", 0)
        self.args = (self.msg,)


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DuplicateKeyError(key)
        out[key] = value
    return out


def strict_json(text: str) -> Any:
    """``json.loads``, refusing a key written twice in one object.

    >>> strict_json('{"a": 1, "b": 2}')
    {'a': 1, 'b': 2}
    >>> strict_json('{"a": 1, "a": 2}')
    Traceback (most recent call last):
    pdplan.strict.DuplicateKeyError: the key 'a' is written twice in one object; keep one
    """
    return json.loads(text, object_pairs_hook=_unique)
