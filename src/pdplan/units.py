"""Units: parse quantities written with explicit units, and convert between them.

pdplan computes in seconds and tokens per second. Milliseconds and tokens per minute exist
only at the edges (command line, reports); the conversions live here so that no bare 1000 or
60 appears elsewhere.

Parsers raise :class:`~pdplan.errors.ConfigError` naming the field, the text and what is
allowed; they never return NaN or infinity.
"""

from __future__ import annotations

import math
import re

from pdplan.errors import ConfigError

__all__ = [
    "MS_PER_S",
    "S_PER_MIN",
    "fmt_clock",
    "fmt_seconds",
    "ms_to_s",
    "parse_count",
    "parse_duration_s",
    "parse_rps",
    "parse_share",
    "parse_tpm",
    "parse_tps",
    "s_to_ms",
    "tpm_to_tps",
    "tps_to_tpm",
]

MS_PER_S = 1000.0
S_PER_MIN = 60.0

_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_DURATION_UNITS_S = {
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "sec": 1.0,
    "secs": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "m": 60.0,
    "min": 60.0,
    "mins": 60.0,
    "minute": 60.0,
    "minutes": 60.0,
    "h": 3600.0,
    "hr": 3600.0,
    "hour": 3600.0,
    "hours": 3600.0,
    "d": 86400.0,
    "day": 86400.0,
    "days": 86400.0,
}
_MULTIPLIERS = {"": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "B": 1e9}
_DURATION_RE = re.compile(rf"\s*({_NUMBER})\s*([a-zA-Zµ]*)\s*")
_COUNT_RE = re.compile(rf"\s*({_NUMBER})\s*([a-zA-Z]?)\s*")


def ms_to_s(value_ms: float) -> float:
    """Milliseconds to seconds.

    >>> ms_to_s(20.0)
    0.02
    """
    return value_ms / MS_PER_S


def s_to_ms(value_s: float) -> float:
    """Seconds to milliseconds.

    >>> s_to_ms(0.1)
    100.0
    """
    return value_s * MS_PER_S


def tpm_to_tps(tokens_per_minute: float) -> float:
    """Tokens per minute to tokens per second.

    >>> round(tpm_to_tps(5e6), 1)
    83333.3
    """
    return tokens_per_minute / S_PER_MIN


def tps_to_tpm(tokens_per_second: float) -> float:
    """Tokens per second to tokens per minute.

    >>> tps_to_tpm(1000.0)
    60000.0
    """
    return tokens_per_second * S_PER_MIN


def fmt_seconds(seconds: float) -> str:
    """A duration for people: seconds, in ms below one second.

    >>> fmt_seconds(2.0), fmt_seconds(0.01992), fmt_seconds(float("inf"))
    ('2 s', '19.92 ms', 'unbounded')
    """
    if math.isinf(seconds):  # a queue that grows without bound
        return "unbounded"
    if seconds >= 1.0:
        return f"{seconds:.4g} s"
    return f"{s_to_ms(seconds):.4g} ms"


def fmt_clock(seconds: float) -> str:
    """A time on a replay's clock as hours and minutes (and seconds when it has them); past a
    day the hours go on.

    >>> fmt_clock(0), fmt_clock(5400), fmt_clock(90_030), fmt_clock(59.6)
    ('00:00', '01:30', '25:00:30', '00:01')
    """
    h, rest = divmod(round(seconds), 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}" + (f":{s:02d}" if s else "")


def _positive_finite(value: float, field: str, text: str, allowed: str) -> float:
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{field} must be > 0 ({allowed}), got {text!r}")
    return value


def parse_duration_s(text: str, field: str = "duration", *, allow_zero: bool = False) -> float:
    """Parse a duration with an explicit unit into seconds.

    Allowed units: ``us``, ``ms``, ``s``, ``m``/``min``, ``h``, ``d`` (and their words, any
    case). A bare number is refused: is ``2`` seconds or milliseconds? The value must be > 0
    (>= 0 with ``allow_zero``).

    :param text: for example ``"2s"``, ``"2000ms"``, ``"1.5 min"``
    :param field: the option or field name used in error messages
    :return: the duration in seconds
    :raises ConfigError: on a missing or unknown unit, or a value <= 0

    >>> parse_duration_s("2s"), parse_duration_s("20ms"), parse_duration_s("1.5min")
    (2.0, 0.02, 90.0)
    >>> parse_duration_s("10m"), parse_duration_s("1h"), parse_duration_s("2 Hours")
    (600.0, 3600.0, 7200.0)
    """
    allowed = "a number with a unit: us, ms, s, m (or min), h or d, e.g. 2s, 20ms or 10m"
    match = _DURATION_RE.fullmatch(text)
    if match is None:
        raise ConfigError(f"{field}: cannot read {text!r} as a duration; expected {allowed}")
    number, unit = match.groups()
    if unit == "":
        raise ConfigError(f"{field}: {text!r} has no unit; expected {allowed}")
    unit = unit if unit == "µs" else unit.lower()
    if unit not in _DURATION_UNITS_S:
        raise ConfigError(f"{field}: unknown unit {unit!r} in {text!r}; expected {allowed}")
    value = float(number) * _DURATION_UNITS_S[unit]
    if allow_zero and value == 0:
        return 0.0
    return _positive_finite(value, field, text, allowed)


def parse_count(text: str, field: str = "value") -> float:
    """Parse a positive number with an optional SI multiplier (k, M, G).

    ``k``/``K`` = 1e3, ``M`` = 1e6, ``G``/``B`` = 1e9. Lowercase ``m`` is refused: it
    would read as milli.

    :raises ConfigError: on an unknown suffix or a value <= 0

    >>> parse_count("5M"), parse_count("500k"), parse_count("83333")
    (5000000.0, 500000.0, 83333.0)
    """
    allowed = "a positive number, optionally with k, M or G, e.g. 5M or 500k"
    match = _COUNT_RE.fullmatch(text)
    if match is None or match.group(2) not in _MULTIPLIERS:
        raise ConfigError(f"{field}: cannot read {text!r}; expected {allowed}")
    number, suffix = match.groups()
    return _positive_finite(float(number) * _MULTIPLIERS[suffix], field, text, allowed)


def _strip_unit(text: str, units: tuple[str, ...]) -> str:
    stripped = text.strip()
    lowered = stripped.lower()
    for unit in units:
        if lowered.endswith(unit):
            return stripped[: len(stripped) - len(unit)]
    return stripped


def parse_tpm(text: str, field: str = "--tpm") -> float:
    """Parse a throughput in tokens per minute; returns tokens per **minute**.

    Accepts an optional trailing ``TPM`` or ``tok/min``.

    >>> parse_tpm("5M"), parse_tpm("5M TPM"), parse_tpm("500k tok/min")
    (5000000.0, 5000000.0, 500000.0)
    """
    return parse_count(_strip_unit(text, ("tpm", "tok/min", "tokens/min")), field)


def parse_tps(text: str, field: str = "--total-tps") -> float:
    """Parse a throughput in tokens per second; accepts a trailing ``tok/s`` or ``tps``.

    >>> parse_tps("83.3k tok/s")
    83300.0
    """
    return parse_count(_strip_unit(text, ("tok/s", "tokens/s", "tps")), field)


def parse_rps(text: str, field: str = "--rps") -> float:
    """Parse a request rate in requests per second; accepts a trailing ``rps`` or ``/s``.

    >>> parse_rps("12.5 rps"), parse_rps("3/s")
    (12.5, 3.0)
    """
    return parse_count(_strip_unit(text, ("rps", "req/s", "/s")), field)


def parse_share(text: str, field: str = "share") -> float:
    """A share in (0, 1): ``10%`` or ``0.1``.

    >>> parse_share("10%"), parse_share("0.05")
    (0.1, 0.05)
    """
    stripped = text.strip()
    percent = stripped.endswith("%")
    try:
        value = float(stripped.rstrip("%")) / (100.0 if percent else 1.0)
    except ValueError:
        raise ConfigError(f"{field}: cannot read {text!r}; expected e.g. 10% or 0.1") from None
    if not 0 < value < 1:
        raise ConfigError(f"{field}: expected a share in (0, 1) such as 10%, got {text!r}")
    return value
