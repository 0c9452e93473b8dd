"""Number formatting for reports: units shown, thousands separated."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pdplan.units import fmt_seconds, tps_to_tpm

if TYPE_CHECKING:
    from rich.table import Table

__all__ = [
    "fmt_arrivals",
    "fmt_duration",
    "fmt_lengths",
    "fmt_share",
    "fmt_tpm",
    "fmt_tps",
    "fmt_workload",
    "new_table",
]


def fmt_share(share: float) -> str:
    """A share (a confidence) as a percentage with the digits it has, never rounded to 100.

    >>> fmt_share(0.9), fmt_share(0.999), fmt_share(0.9995)
    ('90%', '99.9%', '99.95%')
    """
    return f"{share * 100:.4g}%"


def fmt_tps(tokens_per_s: float) -> str:
    """Tokens/s, thousands separated.

    >>> fmt_tps(25075.3)
    '25,075 tok/s'
    """
    return f"{tokens_per_s:,.0f} tok/s"


def fmt_tpm(tokens_per_s: float) -> str:
    """Tokens/s shown as millions of tokens per minute (thousands below 0.01 M).

    >>> fmt_tpm(83333.33), fmt_tpm(50.0)
    ('5.00 M TPM', '3.00 k TPM')
    """
    tpm = tps_to_tpm(tokens_per_s)
    if 0 < tpm < 1e4:
        return f"{tpm / 1e3:.3g} k TPM" if tpm < 1e3 else f"{tpm / 1e3:.2f} k TPM"
    return f"{tpm / 1e6:.2f} M TPM"


def fmt_duration(seconds: float) -> str:
    """Seconds, shown in ms below one second (:func:`pdplan.units.fmt_seconds`).

    >>> fmt_duration(2.0), fmt_duration(0.01992)
    ('2 s', '19.92 ms')
    """
    return fmt_seconds(seconds)


def fmt_lengths(dist: Any) -> str:
    """A length distribution in a few words.

    >>> from pdplan.schema.lengths import Fixed, Lognormal
    >>> fmt_lengths(Fixed(tokens=6144)), fmt_lengths(Lognormal(mean_tokens=2000, sigma=0.8))
    ('6,144', 'mean 2,000 lognormal (SCV 0.9)')
    """
    if dist.kind == "fixed":
        return f"{dist.tokens:,}"
    return f"mean {dist.mean_tokens:,.0f} {dist.kind} (SCV {dist.scv:.2g})"


def fmt_arrivals(workload: Any) -> str:
    """The arrival process in a few words."""
    kind = workload.arrivals.kind
    if kind == "poisson":
        return "Poisson arrivals"
    if kind == "gamma":
        return f"gamma arrivals (inter-arrival SCV {workload.arrivals.scv:.3g})"
    trace = workload.trace
    return (
        f"{trace.source} ({trace.fmt}) replayed x{workload.time_scale:.3g}, inter-arrival "
        f"SCV {trace.interarrival_scv:.2g}"
    )


def fmt_workload(workload: Any) -> str:
    """ISL, OSL, arrivals, rate and prefix hits in one line."""
    cached = f" ({workload.prefix_hit_rate:.0%} prefix-cached)" if workload.prefix_hit_rate else ""
    lengths = (
        f"trace lengths (ISL mean {workload.isl_tokens:,.0f}, OSL mean {workload.osl_tokens:,.0f})"
        if workload.trace is not None
        else f"ISL {fmt_lengths(workload.isl)}, OSL {fmt_lengths(workload.osl)} tokens"
    )
    return (
        f"{lengths}{cached}; {fmt_arrivals(workload)} at {workload.rate_rps:.4g} req/s mean "
        f"({fmt_tpm(workload.total_tps)})"
    )


def new_table(title: str, *columns: str, caption: str | None = None) -> Table:
    """A report table that reads at 80 columns: a rule under the header and no vertical lines
    (two spaces between columns, none at the edges), its title and caption on the left.
    ``columns``: names, the first left-aligned and the rest numbers (right-aligned, never
    wrapped); a name ending in ``<`` is left-aligned text that may wrap (the ``<`` is
    dropped). Headers may hold a line break (``"TTFT\\nmean"``).

    >>> t = new_table("Steps", "step", "TTFT\\nmean", "note<")
    >>> [(c.header, c.justify, c.no_wrap) for c in t.columns]
    [('step', 'left', True), ('TTFT\\nmean', 'right', True), ('note', 'left', False)]
    """
    from rich import box
    from rich.table import Table

    table = Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
        caption=caption,
        caption_justify="left",
    )
    for i, name in enumerate(columns):
        text = name.endswith("<")
        table.add_column(
            name.removesuffix("<"),
            justify="left" if i == 0 or text else "right",
            no_wrap=not text,
        )
    return table
