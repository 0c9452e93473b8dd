"""The options the commands share, declared once: the workload (lengths, target, arrivals,
trace, prefix reuse), the SLOs, the client, ``--json``, ``--seed``, ``--plan-model`` and
``--prompt-mode``. :mod:`pdplan.cli.inputs` turns what they hold into the library's types."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click
from click.core import ParameterSource

from pdplan.quantiles import STATS
from pdplan.schema.routing import PLANNED_DECODE_ROUTINGS, PLANNED_PREFILL_ROUTINGS

__all__ = [
    "client_options",
    "given",
    "json_option",
    "options",
    "plan_model_option",
    "plot_option",
    "prompt_mode_option",
    "seed_option",
    "slo_options",
    "trace_options",
    "workload_options",
]

_PAPER = "the paper's worked example"


F = TypeVar("F", bound=Callable[..., object])
#: A click option (or any decorator of a command function).
Decorator = Callable[[F], F]


def options(opts: list[Callable[[F], F]]) -> Callable[[F], F]:
    """Apply a list of click options as one decorator."""

    def decorate(func: F) -> F:
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
        type=click.Path(),
        help="A request trace: pdplan CSV, Azure LLM inference CSV, Mooncake JSONL or vllm "
        "bench serve --save-detailed JSON (detected; .gz read too), or a ServeGen client-pool "
        "folder (data/<category>/<model>/ of alibaba/ServeGen: requests generated with --seed, "
        "--rate-scale, over --trace-slice, default the first day). Its lengths and arrival "
        "times are the workload.",
    ),
    click.option(
        "--time-scale",
        help="Replay the trace X times faster (e.g. 4). [default: 1]",
    ),
    click.option(
        "--rate-scale",
        help="ServeGen folder: every client's rate times X (production rates are far above one "
        "deployment's), e.g. 0.01. [default: 1]",
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


#: The routing a plan assumes (``size`` and ``schedule``).
planned_routing_options = [
    click.option(
        "--routing",
        type=click.Choice(PLANNED_PREFILL_ROUTINGS),
        default="random",
        show_default=True,
        help="Prefill: random (a queue per instance) or pooled (one queue for all).",
    ),
    click.option(
        "--decode-routing",
        type=click.Choice(PLANNED_DECODE_ROUTINGS),
        default="least_loaded",
        show_default=True,
        help="Decode placement.",
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


json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object instead of tables."
)
seed_option = click.option(
    "--seed",
    type=int,
    default=42,
    show_default=True,
    help="Seed of the random draws (arrival schedules and lengths; in a simulation also routing "
    "and service noise): the same seed gives the same numbers.",
)


def plan_model_option(help_text: str, dest: str = "model") -> Callable[[F], F]:
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


def prompt_mode_option() -> Callable[[F], F]:
    """``--prompt-mode`` with the choices of :data:`pdplan.bench.modes.PROMPT_MODES`."""
    from pdplan.bench.modes import PROMPT_MODES

    return click.option(
        "--prompt-mode",
        type=click.Choice(PROMPT_MODES),
        help="text: prompts the server tokenizes, sized by its /tokenize (as production clients "
        "send them); chat: the same as a chat message to /v1/chat/completions; ids: token-id "
        "prompts. [default: text, ids where the engine has no /tokenize]",
    )


#: The image formats a plot is written in, chosen by the file name's extension.
PLOT_FORMATS = (".png", ".svg", ".pdf", ".jpg", ".jpeg")


def _plot_path(ctx: click.Context, param: click.Parameter, value: str | None) -> Path | None:
    """``--plot FILE``, checked before any work: a known image extension (``.png`` added when
    there is none), matplotlib installed, the file writable."""
    if value is None:
        return None
    from pdplan.errors import ConfigError
    from pdplan.io import check_writable

    path = Path(value)
    if not path.suffix:
        path = path.with_name(path.name + ".png")
    if path.suffix.lower() not in PLOT_FORMATS:
        raise ConfigError(
            f"--plot: {value!r}: a plot is written as {', '.join(f[1:] for f in PLOT_FORMATS)} "
            f"(the extension chooses), e.g. {path.with_suffix('.png')}"
        )
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ConfigError("--plot: plots need matplotlib: pip install 'pdplan[plot]'") from None
    return check_writable(path, "--plot")


def plot_option(what: str) -> Callable[[F], F]:
    """``--plot FILE`` (into ``plot_path``): an image of ``what``, its format chosen by the
    extension (PNG without one)."""
    return click.option(
        "--plot",
        "plot_path",
        type=click.Path(dir_okay=False),
        callback=_plot_path,
        help=f"Draw {what} into FILE (PNG, SVG, PDF or JPEG by its extension; .png added "
        "when there is none).",
    )
