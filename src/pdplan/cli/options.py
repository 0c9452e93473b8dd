"""Options and parsing shared by the commands: profile, the workload (lengths, target,
arrivals, trace, prefix reuse) and the SLOs. Every command that takes a workload builds it
with :func:`workload_from`, so that ``size``, ``simulate``, ``capacity`` and ``loadtest`` read
the same options the same way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from pdplan.errors import ConfigError
from pdplan.quantiles import STATS
from pdplan.units import parse_duration_s, parse_rps, parse_tpm, parse_tps

__all__ = [
    "built",
    "check_url",
    "client_options",
    "given",
    "json_option",
    "length_dist",
    "load_profile_option",
    "maybe",
    "number_list",
    "options",
    "plan_model_option",
    "prompt_mode_option",
    "seed_option",
    "slo_from",
    "slo_options",
    "timeouts_from",
    "trace_from",
    "trace_options",
    "workload_from",
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


def given(name: str) -> bool:
    """True when the user set the option ``name`` (a parameter name) on the command line."""
    source = click.get_current_context().get_parameter_source(name)
    return source not in (None, ParameterSource.DEFAULT)


trace_options = [
    click.option(
        "--trace",
        "trace_path",
        type=click.Path(dir_okay=False),
        help="A request trace: pdplan CSV, Azure LLM inference CSV, Mooncake JSONL or vllm "
        "bench serve --save-detailed JSON (detected). Its lengths and arrival times are the "
        "workload.",
    ),
    click.option(
        "--time-scale",
        help="Replay the trace X times faster (e.g. 4). [default: 1]",
    ),
    click.option("--trace-rps", help="Replay the trace at this mean rate instead, e.g. 20."),
    click.option(
        "--trace-slice",
        help="Only the requests START:END seconds after the trace's first one (its own clock, "
        "before --time-scale), e.g. 0:600.",
    ),
    click.option(
        "--max-context",
        type=click.IntRange(min=2),
        help="Clip each trace request to a context of this many tokens (output first clipped "
        "to it - 1, then the input), for a model with a shorter context.",
    ),
    click.option(
        "--trace-osl",
        type=click.IntRange(min=1, max=10_000_000),
        help="Every trace request generates this many tokens instead (1: prefill only).",
    ),
]

workload_options = [
    click.option(
        "--profile",
        "profile_path",
        type=click.Path(dir_okay=False),
        help="Profile file (YAML/JSON). Default: the embedded paper profile.",
    ),
    click.option(
        "--isl",
        type=click.IntRange(min=1, max=10_000_000),
        default=6144,
        show_default=True,
        help=f"Input tokens per request (mean; {_PAPER}).",
    ),
    click.option(
        "--osl",
        type=click.IntRange(min=1, max=10_000_000),
        default=512,
        show_default=True,
        help="Output tokens per request (mean).",
    ),
    click.option(
        "--isl-dist",
        default="fixed",
        show_default=True,
        help="ISL distribution around --isl: fixed, exponential, lognormal:SIGMA, "
        "uniform[:LOW-HIGH], or file:PATH (one length per line).",
    ),
    click.option(
        "--osl-dist",
        default="fixed",
        show_default=True,
        help="OSL distribution around --osl (same forms).",
    ),
    click.option(
        "--tpm", help="Target tokens/minute, input + output, e.g. 5M, 500k. [default: 5M]"
    ),
    click.option("--total-tps", help="Target tokens/s, input + output, e.g. 83.3k."),
    click.option("--rps", help="Target requests/s, e.g. 12.5."),
    click.option(
        "--arrivals",
        help="Arrival process: poisson, gamma:SCV (inter-arrival SCV; vllm bench serve "
        "--burstiness b is gamma:1/b) or trace (replay --trace). [default: poisson, or trace "
        "with --trace]",
    ),
    click.option(
        "--prefix-hit-rate",
        type=click.FloatRange(0, 1, max_open=True),
        default=0.0,
        help="Share of input tokens served from the prefix cache.",
    ),
    *trace_options,
]

slo_options = [
    click.option("--ttft", default="2s", show_default=True, help="TTFT SLO, e.g. 2s, 500ms."),
    click.option("--tpot", default="20ms", show_default=True, help="TPOT SLO, e.g. 20ms."),
    click.option(
        "--ttft-stat",
        type=click.Choice(STATS),
        default="mean",
        show_default=True,
        help="TTFT statistic the SLO applies to.",
    ),
    click.option(
        "--tpot-stat",
        type=click.Choice(STATS),
        default="mean",
        show_default=True,
        help="TPOT statistic the SLO applies to.",
    ),
    click.option(
        "--stat",
        type=click.Choice(STATS),
        help="Shorthand: the same statistic for TTFT and TPOT.",
    ),
]


client_options = [
    click.option(
        "--request-timeout",
        default="120s",
        show_default=True,
        help="A request not complete after this long fails (a stalled server), e.g. 10min.",
    ),
    click.option(
        "--connect-timeout",
        default="10s",
        show_default=True,
        help="Connecting to the server may take this long.",
    ),
]


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


def timeouts_from(kw: dict[str, Any]) -> Any:
    """The client's :class:`~pdplan.bench.client.Timeouts` from the client options."""
    from pdplan.bench.client import Timeouts

    request_s = parse_duration_s(kw["request_timeout"], "--request-timeout")
    connect_s = parse_duration_s(kw["connect_timeout"], "--connect-timeout")
    for value, option in ((request_s, "--request-timeout"), (connect_s, "--connect-timeout")):
        if value > _MAX_TIMEOUT_S:
            raise ConfigError(f"{option}: at most 24h, got {kw[option[2:].replace('-', '_')]!r}")
    return Timeouts(request_s=request_s, connect_s=connect_s)


_MAX_TIMEOUT_S = 86_400.0


json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object instead of tables."
)
seed_option = click.option("--seed", type=int, default=42, show_default=True)


def plan_model_option(
    help_text: str, dest: str = "model"
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--plan-model`` with the choices of :data:`pdplan.schema.plan.MODELS`."""
    from pdplan.schema.plan import MODELS

    return click.option(
        "--plan-model",
        dest,
        type=click.Choice(MODELS),
        default="auto",
        show_default=True,
        help=help_text,
    )


def prompt_mode_option() -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--prompt-mode`` with the choices of :data:`pdplan.bench.modes.PROMPT_MODES`."""
    from pdplan.bench.modes import PROMPT_MODES

    return click.option(
        "--prompt-mode",
        type=click.Choice(PROMPT_MODES),
        help="text: prompts the server tokenizes, sized by its /tokenize (as production clients "
        "send them); chat: the same as a chat message to /v1/chat/completions; ids: token-id "
        "prompts. [default: text, ids where the engine has no /tokenize]",
    )


def maybe(parse: Callable[..., T], text: str | None, field: str, **kwargs: Any) -> T | None:
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


def trace_from(kw: dict[str, Any]) -> Any:
    """The trace named by ``--trace`` (sliced), or None; refuses trace options without it."""
    if kw.get("trace_path") is None:
        for name, option in (
            ("time_scale", "--time-scale"),
            ("trace_rps", "--trace-rps"),
            ("trace_slice", "--trace-slice"),
            ("max_context", "--max-context"),
            ("trace_osl", "--trace-osl"),
        ):
            if kw.get(name) is not None:
                raise ConfigError(f"{option} applies to a trace: give --trace FILE")
        return None
    from pdplan.io import load_trace

    slice_s = _slice(kw["trace_slice"]) if kw.get("trace_slice") else None
    trace = load_trace(kw["trace_path"], slice_s=slice_s)
    if kw.get("trace_osl"):
        trace = trace.with_osl(kw["trace_osl"])
    if kw.get("max_context"):
        trace = trace.clipped(kw["max_context"])
    return trace


def workload_from(kw: dict[str, Any]) -> Any:
    """The :class:`~pdplan.schema.workload.Workload` the options describe.

    With ``--trace`` the lengths and the load are the trace's: ``--isl``/``--osl``/
    ``--isl-dist``/``--osl-dist``/``--tpm``/``--total-tps``/``--rps`` are refused beside it
    (``--time-scale`` or ``--trace-rps`` set the load); without, ``--arrivals trace`` and the
    trace options are refused.
    """
    from pdplan.schema.arrivals import Replay, parse_arrivals_spec
    from pdplan.schema.workload import Workload, check_rate_rps

    arrivals = parse_arrivals_spec(kw["arrivals"]) if kw.get("arrivals") else None
    trace = trace_from(kw)
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
            if name in kw and given(name):
                raise ConfigError(
                    f"{option} and --trace: the trace gives the lengths and the load; scale "
                    "it with --time-scale or --trace-rps"
                )
        if kw.get("time_scale") and kw.get("trace_rps"):
            raise ConfigError("--time-scale and --trace-rps: give one of them")
        scale = _positive(kw["time_scale"], "--time-scale") if kw.get("time_scale") else 1.0
        rate = parse_rps(kw["trace_rps"], "--trace-rps") if kw.get("trace_rps") else None
        workload = Workload.from_trace(
            trace, time_scale=scale, rate_rps=rate, arrivals=arrivals, prefix_hit_rate=hit
        )
        check_rate_rps(workload.rate_rps, "--trace-rps" if rate else "--time-scale")
        return workload
    if isinstance(arrivals, Replay):
        raise ConfigError("--arrivals trace replays a trace: give --trace FILE")
    isl = length_dist(kw.get("isl_dist") or "fixed", kw["isl"], "--isl-dist")
    osl = length_dist(kw.get("osl_dist") or "fixed", kw["osl"], "--osl-dist")
    return target(isl, osl, kw.get("tpm"), kw.get("total_tps"), kw.get("rps"), hit, arrivals)


def target(
    isl: Any,
    osl: Any,
    tpm: str | None,
    total_tps: str | None,
    rps: str | None,
    hit: float = 0.0,
    arrivals: Any = None,
) -> Any:
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
    shape: dict[str, Any] = {"isl": isl, "osl": osl, "prefix_hit_rate": hit}
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


def slo_from(kw: dict[str, Any]) -> Any:
    """The SLO from ``--ttft``/``--tpot`` and their statistics (``--stat`` sets both)."""
    from pdplan.schema.workload import SLO

    ttft_stat, tpot_stat = kw.get("ttft_stat", "mean"), kw.get("tpot_stat", "mean")
    if kw.get("stat"):
        clash = [
            o for n, o in (("ttft_stat", "--ttft-stat"), ("tpot_stat", "--tpot-stat")) if given(n)
        ]
        if clash:
            raise ConfigError(f"--stat and {' and '.join(clash)}: give one or the other")
        ttft_stat = tpot_stat = kw["stat"]
    return built(
        SLO,
        {"ttft_s": "--ttft", "tpot_s": "--tpot"},
        ttft_s=parse_duration_s(kw["ttft"], "--ttft"),
        tpot_s=parse_duration_s(kw["tpot"], "--tpot"),
        ttft_stat=ttft_stat,
        tpot_stat=tpot_stat,
    )


def built(cls: type[T], options_by_field: dict[str, str], **fields: Any) -> T:
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


def load_profile_option(path: str | None) -> Any:
    from pdplan import io

    return io.load_profile(path) if path else io.default_profile()


def length_dist(spec: str, mean: int, field: str) -> Any:
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
