"""What the shared options hold, turned into the library's types, with one clear line on bad
input: the workload (:func:`workload_from`: every command that takes a workload builds it here,
so that ``size``, ``simulate``, ``capacity`` and ``loadtest`` read the same options the same
way), the SLO, the trace, the client's URL and timeouts, and lists of numbers."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from pdplan.cli.option_types import (
    ClientOptions,
    ImportOptions,
    ProfileOptions,
    SloOptions,
    TraceOptions,
    WorkloadOptions,
    option_value,
)
from pdplan.cli.options import given
from pdplan.errors import ConfigError
from pdplan.units import parse_duration_s, parse_rps, parse_tpm, parse_tps

__all__ = [
    "built",
    "check_url",
    "gpus_per_instance",
    "length_dist",
    "load_profile_option",
    "maybe",
    "number_list",
    "slo_from",
    "target",
    "timeouts_from",
    "trace_from",
    "workload_from",
]

if TYPE_CHECKING:
    from pdplan.bench.client import Timeouts
    from pdplan.schema.arrivals import Arrivals
    from pdplan.schema.lengths import LengthDist
    from pdplan.schema.profile import Profile
    from pdplan.schema.trace import Trace
    from pdplan.schema.workload import SLO, Workload

T = TypeVar("T")


def check_url(url: str | None, option: str) -> str | None:
    """An engine's base URL: ``http(s)://host[:port][/path]``, or None when not given.

    >>> check_url("http://127.0.0.1:8000", "--url")
    'http://127.0.0.1:8000'
    """
    if url is None:
        return None
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{option}: {url!r} is not an http(s) URL; expected e.g. http://127.0.0.1:8000"
        )
    return url


def timeouts_from(kw: ClientOptions) -> Timeouts:
    """The client's :class:`~pdplan.bench.client.Timeouts` from the client options."""
    from pdplan.bench.client import Timeouts

    request_s = parse_duration_s(kw["request_timeout"], "--request-timeout")
    connect_s = parse_duration_s(kw["connect_timeout"], "--connect-timeout")
    for value, option in ((request_s, "--request-timeout"), (connect_s, "--connect-timeout")):
        if value > _MAX_TIMEOUT_S:
            raise ConfigError(
                f"{option}: at most 24h, got {option_value(kw, option[2:].replace('-', '_'))!r}"
            )
    return Timeouts(request_s=request_s, connect_s=connect_s)


_MAX_TIMEOUT_S = 86_400.0


def maybe(parse: Callable[..., T], text: str | None, field: str, **kwargs: bool) -> T | None:
    """Parse an optional option: None stays None."""
    return None if text is None else parse(text, field, **kwargs)


def _positive(text: str, field: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{field}: expected a number > 0, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise ConfigError(f"{field}: expected a finite number > 0, got {text!r}")
    return value


def _slice(text: str) -> tuple[float, float]:
    start, sep, end = text.partition(":")
    try:
        lo = float(start) if start.strip() else 0.0
        hi = float(end) if end.strip() else float("inf")
    except ValueError:
        lo = hi = float("nan")
    if not sep or not (0 <= lo < hi):
        raise ConfigError(
            f"--trace-slice: cannot read {text!r}; expected START:END seconds with "
            "0 <= START < END, e.g. 0:600 (either may be empty)"
        )
    return lo, hi


def trace_from(kw: TraceOptions, seed: int = 42) -> Trace | None:
    """The trace named by ``--trace`` (sliced), or None; refuses trace options without it."""
    path = kw.get("trace_path")
    if path is None:
        for name, option in (
            ("time_scale", "--time-scale"),
            ("rate_scale", "--rate-scale"),
            ("trace_rps", "--trace-rps"),
            ("trace_slice", "--trace-slice"),
            ("max_context", "--max-context"),
            ("trace_osl", "--trace-osl"),
        ):
            if option_value(kw, name) is not None:
                raise ConfigError(f"{option} applies to a trace: give --trace FILE")
        return None
    import click

    from pdplan.io import load_trace
    from pdplan.traffic.formats import unit_warning

    sliced, trace_osl, max_context = (
        kw.get("trace_slice"),
        kw.get("trace_osl"),
        kw.get("max_context"),
    )
    from pathlib import Path

    if Path(path).is_dir():
        trace = _servegen(path, kw, _slice(sliced) if sliced else (0.0, 86_400.0), seed)
    else:
        if kw.get("rate_scale"):
            raise ConfigError(
                "--rate-scale applies to a ServeGen folder; scale a trace with --time-scale or "
                "--trace-rps"
            )
        trace = load_trace(path, slice_s=_slice(sliced) if sliced else None)
    warning = unit_warning(trace)
    if warning is not None:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    if trace_osl:
        trace = trace.with_osl(trace_osl)
    if max_context:
        trace = trace.clipped(max_context)
    return trace


def _servegen(path: str, kw: TraceOptions, span_s: tuple[float, float], seed: int) -> Trace:
    """Requests generated from a ServeGen client pool (one warning line for left-out clients)."""
    import click

    from pdplan.io import load_servegen
    from pdplan.traffic.servegen import generate

    if span_s[1] == float("inf"):
        raise ConfigError("--trace-slice: a ServeGen folder needs an end, e.g. 0:86400")
    text = kw.get("rate_scale")
    scale = _positive(text, "--rate-scale") if text else 1.0
    pool = load_servegen(path)
    if pool.skipped:
        clients = ", ".join(str(c) for c in pool.skipped)
        click.secho(
            f"warning: {path}: client(s) {clients} have no chunk-N-dataset.json: left out",
            fg="yellow",
            err=True,
        )
    return generate(pool, rate_scale=scale, start_s=span_s[0], end_s=span_s[1], seed=seed)


def workload_from(kw: WorkloadOptions, seed: int = 42) -> Workload:
    """The :class:`~pdplan.schema.workload.Workload` the options describe.

    With ``--trace`` the lengths and the load are the trace's: ``--isl``/``--osl``/
    ``--isl-dist``/``--osl-dist``/``--tpm``/``--total-tps``/``--rps`` are refused beside it
    (``--time-scale`` or ``--trace-rps`` set the load); without, ``--arrivals trace`` and the
    trace options are refused.
    """
    from pdplan.schema.arrivals import Replay, parse_arrivals_spec
    from pdplan.schema.workload import MAX_RATE_RPS, MIN_RATE_RPS, Workload, check_rate_rps

    spec = kw.get("arrivals")
    arrivals = parse_arrivals_spec(spec) if spec else None
    trace = trace_from(kw, seed)
    hit = kw.get("prefix_hit_rate") or 0.0
    if trace is not None:
        for name, option in (
            ("isl", "--isl"),
            ("osl", "--osl"),
            ("isl_dist", "--isl-dist"),
            ("osl_dist", "--osl-dist"),
            ("tpm", "--tpm"),
            ("total_tps", "--total-tps"),
            ("rps", "--rps"),
        ):
            if option_value(kw, name) is not None and given(name):
                raise ConfigError(
                    f"{option} and --trace: the trace gives the lengths and the load; scale "
                    "it with --time-scale or --trace-rps"
                )
        scale_text, rate_text = kw.get("time_scale"), kw.get("trace_rps")
        if scale_text and rate_text:
            raise ConfigError("--time-scale and --trace-rps: give one of them")
        scale = _positive(scale_text, "--time-scale") if scale_text else 1.0
        rate = parse_rps(rate_text, "--trace-rps") if rate_text else None
        workload = Workload.from_trace(
            trace, time_scale=scale, rate_rps=rate, arrivals=arrivals, prefix_hit_rate=hit
        )
        if kw.get("summary_only"):  # pdplan trace describes any trace; plans need a range
            return workload
        if rate or scale_text:
            check_rate_rps(workload.rate_rps, "--trace-rps" if rate else "--time-scale")
        elif not MIN_RATE_RPS <= workload.rate_rps <= MAX_RATE_RPS:
            raise ConfigError(
                f"{trace.source}: the trace's mean rate is {workload.rate_rps:.6g} req/s as "
                f"recorded; pdplan plans for {MIN_RATE_RPS:g} to {MAX_RATE_RPS:g} req/s: replay "
                "it faster or slower with --time-scale or --trace-rps (or check its time unit)"
            )
        return workload
    if isinstance(arrivals, Replay):
        raise ConfigError("--arrivals trace replays a trace: give --trace FILE")
    for name in ("isl", "osl"):
        if str(option_value(kw, f"{name}_dist") or "").startswith("file:") and given(name):
            raise ConfigError(
                f"--{name} and --{name}-dist file:...: the file gives the lengths (and their "
                f"mean); give one of them"
            )
    isl = length_dist(kw.get("isl_dist") or "fixed", kw["isl"], "--isl-dist")
    osl = length_dist(kw.get("osl_dist") or "fixed", kw["osl"], "--osl-dist")
    return target(isl, osl, kw.get("tpm"), kw.get("total_tps"), kw.get("rps"), hit, arrivals)


def target(
    isl: LengthDist,
    osl: LengthDist,
    tpm: str | None,
    total_tps: str | None,
    rps: str | None,
    hit: float = 0.0,
    arrivals: Arrivals | None = None,
) -> Workload:
    """The Workload for exactly one of --tpm, --total-tps, --rps (default 5M TPM)."""
    from pdplan.schema.workload import Workload, check_rate_rps

    given_targets = [
        name for name, v in (("--tpm", tpm), ("--total-tps", total_tps), ("--rps", rps)) if v
    ]
    if len(given_targets) > 1:
        raise ConfigError(
            f"throughput target: got {' and '.join(given_targets)}; give exactly one of --tpm, "
            "--total-tps or --rps"
        )
    shape: dict[str, object] = {"isl": isl, "osl": osl, "prefix_hit_rate": hit}
    if arrivals is not None:
        shape["arrivals"] = arrivals
    if rps:
        workload = Workload.from_rps(rate_rps=parse_rps(rps), **shape)
    elif total_tps:
        workload = Workload(total_tps=parse_tps(total_tps), **shape)
    else:
        workload = Workload.from_tpm(tpm=parse_tpm(tpm or "5M"), **shape)
    check_rate_rps(workload.rate_rps, given_targets[0] if given_targets else "--tpm")
    return workload


def slo_from(kw: SloOptions) -> SLO:
    """The SLO from ``--ttft``/``--tpot`` and their statistics (``--stat`` sets both)."""
    from pdplan.schema.workload import SLO

    ttft_stat, tpot_stat, both = kw["ttft_stat"], kw["tpot_stat"], kw.get("stat")
    if both:
        clash = [
            o for n, o in (("ttft_stat", "--ttft-stat"), ("tpot_stat", "--tpot-stat")) if given(n)
        ]
        if clash:
            raise ConfigError(f"--stat and {' and '.join(clash)}: give one or the other")
        ttft_stat = tpot_stat = both
    return built(
        SLO,
        {"ttft_s": "--ttft", "tpot_s": "--tpot"},
        ttft_s=parse_duration_s(kw["ttft"], "--ttft"),
        tpot_s=parse_duration_s(kw["tpot"], "--tpot"),
        ttft_stat=ttft_stat,
        tpot_stat=tpot_stat,
    )


def built(cls: type[T], options_by_field: dict[str, str], **fields: object) -> T:
    """``cls(**fields)``, with a validation error named by the option that set the field:
    ``--tpot: Input should be less than or equal to 3600 (got 1e+308)``."""
    from pydantic import ValidationError

    try:
        return cls(**fields)
    except ValidationError as exc:
        item = exc.errors()[0]
        name = str(item["loc"][0]) if item["loc"] else ""
        option = options_by_field.get(name, name or cls.__name__)
        message = str(item["msg"]).removeprefix("Value error, ")
        unit = " s" if name.endswith("_s") else ""
        raise ConfigError(f"{option}: {message}{unit} (got {item.get('input')!r}{unit})") from None


def load_profile_option(path: str | None) -> Profile:
    from pdplan import io

    return io.load_profile(path) if path else io.default_profile()


def length_dist(spec: str, mean: int, field: str) -> LengthDist:
    """A length distribution from ``--isl-dist``-style text, or ``file:PATH`` (empirical)."""
    from pdplan.schema.lengths import Empirical, parse_length_spec

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


_HARDWARE_COUNT = re.compile(r"\s*(\d+)\s*[x\u00d7*]\s*\S", re.IGNORECASE)


def gpus_per_instance(kw: ImportOptions | ProfileOptions) -> tuple[int, int]:
    """GPUs per prefill and per decode instance: ``--prefill-gpus``/``--decode-gpus``, or the
    count that ``--hardware`` opens with (``8xH100``: 8) for the ones not given. A count given
    that differs from the hardware's is refused: every later GPU count and cost would be off.

    >>> gpus_per_instance({"hardware": None, "prefill_gpus": 1, "decode_gpus": 1})
    (1, 1)
    """
    hardware = kw.get("hardware")
    found = _HARDWARE_COUNT.match(hardware) if hardware else None
    if found is None:
        return kw["prefill_gpus"], kw["decode_gpus"]
    count = int(found.group(1))
    if count < 1:
        raise ConfigError(f"--hardware: {hardware!r} counts {count} GPUs; expected at least 1")
    counts = []
    for name, option in (("prefill_gpus", "--prefill-gpus"), ("decode_gpus", "--decode-gpus")):
        value = option_value(kw, name)
        if _given_safely(name) and value != count:
            raise ConfigError(
                f"--hardware {hardware!r} says {count} GPUs per instance, {option} "
                f"{value}: give counts that agree (--hardware describes one instance; write it "
                "without a count, e.g. H100, when the phases differ)"
            )
        counts.append(count)
    return counts[0], counts[1]


def _given_safely(name: str) -> bool:
    """:func:`given`, False outside a click command (doctests)."""
    import click

    return click.get_current_context(silent=True) is not None and given(name)
