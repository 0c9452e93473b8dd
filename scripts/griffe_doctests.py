"""A griffe extension for the API pages: the doctest examples of a docstring (``>>>`` lines,
their ``...`` continuations and their output) become fenced Python code, so that the site shows
them as code instead of reading ``[...]`` in their output as Markdown links."""

from __future__ import annotations

from typing import Any

import griffe


def fence_doctests(text: str) -> str:
    """The docstring with each run of doctest lines (up to a blank line) fenced as Python."""
    out: list[str] = []
    inside = False
    for line in text.splitlines():
        if line.lstrip().startswith(">>>") and not inside:
            out.append("```python")
            inside = True
        elif inside and not line.strip():
            out.append("```")
            inside = False
        out.append(line)
    if inside:
        out.append("```")
    return "\n".join(out)


class DoctestFences(griffe.Extension):
    """Fence every object's doctests (see the module docstring)."""

    def on_object(self, *, obj: Any, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = fence_doctests(obj.docstring.value)
