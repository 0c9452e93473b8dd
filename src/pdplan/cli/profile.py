"""``pdplan profile prefill|decode|overhead|all``: measure live engines, write a profile."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, TypeVar, Unpack

import click

from pdplan.cli.inputs import check_url, maybe, number_list, timeouts_from
from pdplan.cli.lazy_group import LazyGroup
from pdplan.cli.option_types import (
    ProfileAllOptions,
    ProfileDecodeOptions,
    ProfileOptions,
    ProfileOverheadOptions,
    ProfilePrefillOptions,
    SessionOptions,
)
from pdplan.cli.options import options
from pdplan.cli.profile_options import (
    MAX_CONCURRENCY,
    MAX_ISL,
    common,
    decode_options,
    prefill_options,
)
from pdplan.errors import ConfigError
from pdplan.units import parse_duration_s, parse_share

if TYPE_CHECKING:
    from pdplan.bench.client import Timeouts
    from pdplan.bench.decode import DecodeSettings
    from pdplan.bench.modes import PromptMode
    from pdplan.bench.prefill import PrefillSettings
    from pdplan.bench.session import Reporter

__all__ = ["profile"]

T = TypeVar("T")


def _ints(text: str, field: str, top: int) -> tuple[int, ...]:
    return number_list(text, field, int, lambda v: 1 <= v <= top, f"integers in 1..{top:,}")


def _loads(text: str | None) -> tuple[float, ...]:
    if not text or text.strip().lower() == "none":
        return ()
    return number_list(text, "--loads", float, lambda v: 0 < v < 1, "utilizations in (0, 1)")


def _run(make: Callable[[Reporter], Coroutine[object, object, T]]) -> T:
    """Run a measurement with progress bars; Ctrl-C keeps what is on disk."""
    from rich.console import Console

    from pdplan.report.progress import RichReporter

    with RichReporter(Console(stderr=True)) as reporter:
        return asyncio.run(make(reporter))


def _finish(
    out: Path, gpus: tuple[int, int], kv: int | None, hardware: str | None, plot: Path | None
) -> None:
    from rich.console import Console

    from pdplan.bench import profiler
    from pdplan.bench.records import read_part
    from pdplan.report import profile_tables as tables
    from pdplan.schema.parts import DecodePart, OverheadPart, PrefillPart

    console = Console()
    prefill = read_part(out, "prefill", PrefillPart)
    decode = read_part(out, "decode", DecodePart)
    overhead = read_part(out, "overhead", OverheadPart)
    shown = [
        tables.prefill_table(prefill) if prefill else None,
        tables.sweep_table(prefill) if prefill else None,
        tables.decode_table(decode) if decode else None,
        tables.overhead_table(overhead) if overhead else None,
    ]
    for table in shown:
        if table is not None:
            console.print(table)
    written = profiler.write_profile(
        out, prefill_gpus=gpus[0], decode_gpus=gpus[1], kv_capacity_tokens=kv, hardware=hardware
    )
    if written is None:
        console.print(f"parts written to {out}/parts; profile.yaml needs both prefill and decode")
    else:
        console.print(
            f"profile written to [bold]{written[0]}[/] (raw samples: {out}/records.jsonl)"
        )
        if plot is not None:
            from pdplan.report.plots import plot_profile

            console.print(f"plot written to {plot_profile(written[1], plot)}")


@click.group(
    cls=LazyGroup, lazy={"aggregated": ("pdplan.cli.profile_aggregated", "aggregated_cmd")}
)
def profile() -> None:
    """Measure live OpenAI-compatible engines and write a profile for `pdplan size`."""


def _prefill_settings(kw: ProfilePrefillOptions | ProfileAllOptions) -> PrefillSettings:
    from pdplan.bench.prefill import PrefillSettings

    return PrefillSettings(
        min_duration_s=parse_duration_s(kw["min_duration"], "--min-duration", allow_zero=True),
        isls=_ints(kw["isl_text"], "--isl", MAX_ISL),
        concurrency=kw["concurrency"],
        requests=kw["requests"],
        loads=_loads(kw["loads"]),
        sweep_requests=kw["sweep_requests"],
        seed=kw["seed"],
        precision=maybe(parse_share, kw["precision"], "--precision"),
        point_budget_s=parse_duration_s(kw["point_budget"], "--point-budget"),
    )


def _decode_settings(kw: ProfileDecodeOptions | ProfileAllOptions) -> DecodeSettings:
    from pdplan.bench.decode import DecodeSettings

    return DecodeSettings(
        min_duration_s=parse_duration_s(kw["min_duration"], "--min-duration", allow_zero=True),
        isl_tokens=kw["decode_isl"],
        osl_tokens=kw["osl"],
        batches=_ints(kw["batch_text"], "--batch", MAX_CONCURRENCY),
        rounds=kw["rounds"],
    )


def _gpus(kw: ProfileOptions) -> tuple[int, int]:
    from pdplan.cli.inputs import gpus_per_instance

    return gpus_per_instance(kw)


class _Client(TypedDict):
    """The session options every measurement takes."""

    model: str | None
    prompt_mode: PromptMode | None
    timeouts: Timeouts


def _client(kw: SessionOptions) -> _Client:
    """The session options every measurement takes, checked before anything is measured."""
    from pdplan.io import check_out_dir

    check_out_dir(kw["out"], "--out")
    return {"model": kw["model"], "prompt_mode": kw["prompt_mode"], "timeouts": timeouts_from(kw)}


@profile.command("prefill")
@click.option("--url", required=True, help="Base URL of the prefill instance.")
@options(prefill_options)
@options(common)
def prefill_cmd(url: str, **kw: Unpack[ProfilePrefillOptions]) -> None:
    """TPmax per ISL, idle TTFT and (with --loads) TTFT against Poisson rate."""
    from pdplan.bench import profiler

    check_url(url, "--url")
    settings, client = _prefill_settings(kw), _client(kw)
    _run(lambda r: profiler.run_prefill(url, kw["out"], settings, reporter=r, **client))
    _finish(kw["out"], _gpus(kw), kw["kv_capacity_tokens"], kw["hardware"], kw["plot_path"])


@profile.command("decode")
@click.option("--url", required=True, help="Base URL of the decode instance.")
@options(decode_options)
@options(common)
def decode_cmd(url: str, **kw: Unpack[ProfileDecodeOptions]) -> None:
    """TPOT and output tokens/s against decode batch size (closed loop, ignore_eos)."""
    from pdplan.bench import profiler

    check_url(url, "--url")
    settings, client = _decode_settings(kw), _client(kw)
    _run(
        lambda r: profiler.run_decode(
            url, kw["out"], settings, seed=kw["seed"], reporter=r, **client
        )
    )
    _finish(kw["out"], _gpus(kw), kw["kv_capacity_tokens"], kw["hardware"], kw["plot_path"])


@profile.command("overhead")
@click.option("--pd-url", required=True, help="Base URL of the P/D path (the router).")
@click.option("--prefill-url", required=True, help="Base URL of a prefill instance.")
@click.option(
    "--overhead-isl",
    type=click.IntRange(min=1, max=MAX_ISL),
    default=1024,
    show_default=True,
    help="Input tokens of the requests sent through both paths.",
)
@click.option(
    "--overhead-requests",
    type=click.IntRange(min=2, max=100_000),
    default=20,
    show_default=True,
    help="Requests through each path, one at a time (zero load).",
)
@options(common)
def overhead_cmd(
    pd_url: str,
    prefill_url: str,
    overhead_isl: int,
    overhead_requests: int,
    **kw: Unpack[ProfileOverheadOptions],
) -> None:
    """T_overhead: P/D-path TTFT minus prefill-only TTFT at zero load."""
    from pdplan.bench import profiler
    from pdplan.bench.overhead import OverheadSettings

    check_url(pd_url, "--pd-url")
    check_url(prefill_url, "--prefill-url")
    settings = OverheadSettings(isl_tokens=overhead_isl, requests=overhead_requests)
    client = _client(kw)
    _run(
        lambda r: profiler.run_overhead(
            pd_url, prefill_url, kw["out"], settings, reporter=r, **client
        )
    )
    _finish(kw["out"], _gpus(kw), kw["kv_capacity_tokens"], kw["hardware"], kw["plot_path"])


@profile.command("all")
@click.option("--url", help="One base URL for both phases (a single instance).")
@click.option("--prefill-url", help="Base URL of the prefill instance (instead of --url).")
@click.option("--decode-url", help="Base URL of the decode instance (instead of --url).")
@click.option("--pd-url", help="Base URL of the P/D path, to measure the overhead.")
@options(prefill_options)
@options(decode_options)
@options(common)
def all_cmd(
    url: str | None,
    prefill_url: str | None,
    decode_url: str | None,
    pd_url: str | None,
    **kw: Unpack[ProfileAllOptions],
) -> None:
    """Prefill, decode and (with --pd-url) overhead, then the complete profile."""
    from pdplan.bench import profiler
    from pdplan.bench.overhead import OverheadSettings

    if url is not None and (prefill_url or decode_url):
        other = "--prefill-url" if prefill_url else "--decode-url"
        raise ConfigError(
            f"--url and {other} do not go together: --url measures both phases on one "
            "instance; give --prefill-url and --decode-url for two"
        )
    for value, option in (
        (url, "--url"),
        (prefill_url, "--prefill-url"),
        (decode_url, "--decode-url"),
        (pd_url, "--pd-url"),
    ):
        check_url(value, option)
    p_url, d_url = prefill_url or url, decode_url or url
    if p_url is None or d_url is None:
        raise ConfigError("profile all: give --url, or both --prefill-url and --decode-url")
    prefill, decode, client = _prefill_settings(kw), _decode_settings(kw), _client(kw)
    _run(lambda r: profiler.run_prefill(p_url, kw["out"], prefill, reporter=r, **client))
    _run(
        lambda r: profiler.run_decode(
            d_url, kw["out"], decode, reporter=r, seed=kw["seed"], **client
        )
    )
    if pd_url:
        settings = OverheadSettings(isl_tokens=prefill.isls[0])
        _run(
            lambda r: profiler.run_overhead(
                pd_url, p_url, kw["out"], settings, reporter=r, **client
            )
        )
    _finish(kw["out"], _gpus(kw), kw["kv_capacity_tokens"], kw["hardware"], kw["plot_path"])
