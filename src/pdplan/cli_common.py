"""Options and parsing shared by the commands: profile, request lengths, SLOs, target."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from pdplan.errors import ConfigError
from pdplan.units import parse_duration_s, parse_rps, parse_tpm, parse_tps

__all__ = [
    "length_dist",
    "load_profile_option",
    "maybe",
    "number_list",
    "options",
    "slo_from",
    "target",
    "workload_options",
]

T = TypeVar("T")
_PAPER = "the paper's worked example"


def options(opts: list[Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Apply a list of click options as one decorator."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(opts):
            func = option(func)
        return func

    return decorate


workload_options = [
    click.option(
        "--profile",
        "profile_path",
        type=click.Path(dir_okay=False),
        help="Profile file (YAML/JSON). Default: the embedded paper profile.",
    ),
    click.option(
        "--isl",
        type=click.IntRange(min=1),
        default=6144,
        show_default=True,
        help=f"Input tokens per request (mean; {_PAPER}).",
    ),
    click.option(
        "--osl",
        type=click.IntRange(min=1),
        default=512,
        show_default=True,
        help="Output tokens per request (mean).",
    ),
    click.option("--ttft", default="2s", show_default=True, help="TTFT SLO, e.g. 2s, 500ms."),
    click.option("--tpot", default="20ms", show_default=True, help="TPOT SLO, e.g. 20ms."),
    click.option(
        "--tpm", help="Target tokens/minute, input + output, e.g. 5M, 500k. [default: 5M]"
    ),
    click.option("--total-tps", help="Target tokens/s, input + output, e.g. 83.3k."),
    click.option("--rps", help="Target requests/s, e.g. 12.5."),
]


def maybe(parse: Callable[..., T], text: str | None, field: str, **kwargs: Any) -> T | None:
    """Parse an optional option: None stays None."""
    return None if text is None else parse(text, field, **kwargs)


def target(
    isl: int,
    osl: int,
    tpm: str | None,
    total_tps: str | None,
    rps: str | None,
    hit: float = 0.0,
    isl_scv: float = 0.0,
) -> Any:
    """The Workload for exactly one of --tpm, --total-tps, --rps (default 5M TPM)."""
    from pdplan.models.workload import Workload

    given = [name for name, v in (("--tpm", tpm), ("--total-tps", total_tps), ("--rps", rps)) if v]
    if len(given) > 1:
        raise ConfigError(
            f"throughput target: got {' and '.join(given)}; give exactly one of --tpm, "
            "--total-tps or --rps"
        )
    shape: dict[str, Any] = {
        "isl_tokens": isl,
        "osl_tokens": osl,
        "prefix_hit_rate": hit,
        "isl_scv": isl_scv,
    }
    if rps:
        return Workload.from_rps(rate_rps=parse_rps(rps), **shape)
    if total_tps:
        return Workload(total_tps=parse_tps(total_tps), **shape)
    return Workload.from_tpm(tpm=parse_tpm(tpm or "5M"), **shape)


def slo_from(ttft: str, tpot: str, ttft_stat: str = "mean", tpot_stat: str = "mean") -> Any:
    from pdplan.models.workload import SLO

    return SLO(
        ttft_s=parse_duration_s(ttft, "--ttft"),
        tpot_s=parse_duration_s(tpot, "--tpot"),
        ttft_stat=ttft_stat,
        tpot_stat=tpot_stat,
    )


def load_profile_option(path: str | None) -> Any:
    from pdplan import io

    return io.load_profile(path) if path else io.default_profile()


def length_dist(spec: str, mean: int, field: str) -> Any:
    """A length distribution from ``--isl-dist``-style text, or ``file:PATH`` (empirical)."""
    from pdplan.sim.lengths import Empirical, parse_length_spec

    if spec.startswith("file:"):
        from pdplan.io import load_lengths

        return Empirical(values_tokens=load_lengths(spec[5:]))
    return parse_length_spec(spec, mean, field)


def number_list(
    text: str, field: str, kind: Callable[[str], T], valid: Callable[[T], bool], allowed: str
) -> tuple[T, ...]:
    """Comma-separated numbers, each converted by ``kind`` and checked by ``valid``.

    >>> number_list("1,2,4", "--batch", int, lambda v: v >= 1, "integers >= 1")
    (1, 2, 4)
    """
    try:
        values = tuple(kind(v) for v in text.split(","))
    except ValueError:
        raise ConfigError(f"{field}: expected comma-separated {allowed}, got {text!r}") from None
    if not values or not all(valid(v) for v in values):
        raise ConfigError(f"{field}: values must be {allowed}, got {text!r}")
    return values
