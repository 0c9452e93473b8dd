"""Names a package exports, imported from their modules on first use (PEP 562), so that
importing the package -- and so every command line -- pays only for what it touches.

>>> getattr_, dir_ = exports("pdplan.units", {"fmt_clock": "pdplan.units"}, {})
>>> getattr_("fmt_clock")(3600.0)
'01:00'
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

__all__ = ["exports"]


def exports(
    package: str, where: dict[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``, whose names ``where`` maps to the
    modules defining them; each is kept in ``namespace`` (the package's globals) once
    imported."""

    def getattr_(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def dir_() -> list[str]:
        return sorted({*namespace, *where})

    return getattr_, dir_
