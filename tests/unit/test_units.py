from __future__ import annotations

import pytest

from pdplan.errors import ConfigError
from pdplan.units import parse_count, parse_duration_s, parse_rps, parse_tpm, parse_tps


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("2s", 2.0),
        ("2000ms", 2.0),
        ("20ms", 0.02),
        ("500us", 5e-4),
        ("1.5min", 90.0),
        (" 2 s ", 2.0),
        ("1h", 3600.0),
        ("2.5e-1s", 0.25),
    ],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration_s(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("2", "has no unit"),
        ("2 parsecs", "unknown unit"),
        ("fast", "cannot read"),
        ("0ms", "must be > 0"),
        ("-1s", "must be > 0"),
        ("2mo", "unknown unit"),
    ],
)
def test_bad_durations_name_field_and_value(text: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle) as info:
        parse_duration_s(text, "--ttft")
    assert str(info.value).startswith("--ttft")
    assert repr(text) in str(info.value)


def test_zero_duration_allowed_when_asked() -> None:
    assert parse_duration_s("0ms", allow_zero=True) == 0.0


@pytest.mark.parametrize(
    ("text", "value"), [("5M", 5e6), ("500k", 5e5), ("500K", 5e5), ("1.2G", 1.2e9), ("7", 7.0)]
)
def test_counts(text: str, value: float) -> None:
    assert parse_count(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["5m", "5X", "", "nan", "inf", "-5M", "0"])
def test_bad_counts(text: str) -> None:
    with pytest.raises(ConfigError, match="--tpm"):
        parse_tpm(text)


def test_throughput_suffixes() -> None:
    assert parse_tpm("5M TPM") == 5e6
    assert parse_tps("83.3k tok/s") == pytest.approx(83300.0)
    assert parse_rps("12.5 rps") == 12.5
