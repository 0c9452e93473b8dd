"""The pdplan exception hierarchy.

Every error a user can cause derives from :class:`PdplanError`. The CLI catches it once,
prints ``TypeName: message`` on one line and exits non-zero. Messages name the field, the
value received and what is allowed.

::

    PdplanError
    ├── ConfigError(PdplanError, ValueError)        bad file, field or option
    ├── UnstableQueueError(PdplanError, ValueError) rho >= 1
    ├── InfeasibleSLOError(PdplanError)             no instance count meets the SLO
    └── BenchmarkError(PdplanError)                 measuring a live engine failed
"""

from __future__ import annotations

__all__ = [
    "BenchmarkError",
    "ConfigError",
    "InfeasibleSLOError",
    "PdplanError",
    "UnstableQueueError",
]


class PdplanError(Exception):
    """Base class of every error pdplan raises on purpose."""


class ConfigError(PdplanError, ValueError):
    """A file, field or command-line option holds a value that is not allowed."""


class UnstableQueueError(PdplanError, ValueError):
    """A queue is offered at least as much work as it can serve (rho >= 1)."""


class InfeasibleSLOError(PdplanError):
    """No number of instances meets the SLO; the message says what is achievable.

    :ivar field: the SLO field that cannot be met (for example ``"ttft"``)
    :ivar achievable: the best value any allocation reaches, in the field's unit
    """

    def __init__(self, message: str, *, field: str, achievable: float) -> None:
        super().__init__(message)
        self.field = field
        self.achievable = achievable


class BenchmarkError(PdplanError):
    """Measuring a live engine failed."""
