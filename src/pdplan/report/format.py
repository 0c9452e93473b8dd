"""Number formatting for reports: units shown, thousands separated."""

from __future__ import annotations

from pdplan.units import s_to_ms, tps_to_tpm

__all__ = ["fmt_duration", "fmt_tpm", "fmt_tps"]


def fmt_tps(tokens_per_s: float) -> str:
    """Tokens/s, thousands separated.

    >>> fmt_tps(25075.3)
    '25,075 tok/s'
    """
    return f"{tokens_per_s:,.0f} tok/s"


def fmt_tpm(tokens_per_s: float) -> str:
    """Tokens/s shown as millions of tokens per minute.

    >>> fmt_tpm(83333.33)
    '5.00 M TPM'
    """
    return f"{tps_to_tpm(tokens_per_s) / 1e6:.2f} M TPM"


def fmt_duration(seconds: float) -> str:
    """Seconds, shown in ms below one second.

    >>> fmt_duration(2.0), fmt_duration(0.01992)
    ('2 s', '19.92 ms')
    """
    if seconds >= 1.0:
        return f"{seconds:.4g} s"
    return f"{s_to_ms(seconds):.4g} ms"
