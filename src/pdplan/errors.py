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
        ├── ServerHTTPError                         an HTTP status other than 200
        └── StreamParseError                        a stream pdplan cannot read
"""

from __future__ import annotations

__all__ = [
    "BenchmarkError",
    "ConfigError",
    "InfeasibleSLOError",
    "PdplanError",
    "ServerHTTPError",
    "StreamParseError",
    "UnstableQueueError",
    "one_line",
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


class ServerHTTPError(BenchmarkError):
    """The server answered with an HTTP status other than 200.

    :ivar url: the URL requested
    :ivar status: the HTTP status code
    :ivar body: the start of the answer's body
    """

    def __init__(self, url: str, status: int, body: str = "") -> None:
        shown = one_line(body)
        detail = f": {shown}" if shown else ""
        super().__init__(f"{url}: HTTP {status}{detail}")
        self.url = url
        self.status = status
        self.body = body


class StreamParseError(BenchmarkError):
    """A streamed answer that is not the OpenAI server-sent-events stream pdplan reads.

    :ivar line: the offending line (its start), or "" when the stream as a whole is wrong
    """

    def __init__(self, message: str, line: str = "") -> None:
        super().__init__(message)
        self.line = line


def one_line(text: str, limit: int = 200) -> str:
    """A server's answer shown in one line: an HTML page by its title (or its text without
    tags), whitespace collapsed, cut at ``limit`` characters.

    >>> one_line("<html><head><title>502 Bad Gateway</title></head>\\n<body>...</body></html>")
    '502 Bad Gateway'
    >>> one_line("line one\\n  line two")
    'line one line two'
    """
    import re

    title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    if title is not None:
        text = title.group(1)
    elif re.search(r"<(html|body|head|!doctype)\b", text, re.IGNORECASE):
        text = re.sub(r"<[^>]*>", " ", text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
