"""The ``pdplan`` command line: one module per command, the shared options in
:mod:`pdplan.cli.options`, the group and the error handling in :mod:`pdplan.cli.app`."""

from __future__ import annotations

from pdplan.cli.app import (
    EXIT_BAD_INPUT,
    EXIT_INFEASIBLE,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    cli,
    main,
)

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_INFEASIBLE",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_USAGE",
    "cli",
    "main",
]
