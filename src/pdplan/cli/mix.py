"""``pdplan size --prefill-profile ... --decode-profile ...``: the cheapest mix of measured
hardware per phase (:mod:`pdplan.plan.hardware`)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pdplan.cli.inputs import slo_from
from pdplan.cli.option_types import SizeOptions
from pdplan.cli.options import given
from pdplan.errors import ConfigError

if TYPE_CHECKING:
    from pdplan.plan.hardware import HardwareOption
    from pdplan.schema.workload import Workload

__all__ = ["mix_options", "size_mix"]

mix_options = [
    click.option(
        "--prefill-profile",
        "prefill_profiles",
        multiple=True,
        type=click.Path(dir_okay=False),
        help="A measured configuration for prefill (repeat for more): the cheapest mix of "
        "prefill and decode options is planned. [default: the --decode-profile files]",
    ),
    click.option(
        "--decode-profile",
        "decode_profiles",
        multiple=True,
        type=click.Path(dir_okay=False),
        help="A measured configuration for decode (repeat for more). [default: the "
        "--prefill-profile files]",
    ),
    click.option(
        "--gpu-cost",
        help="Price of one GPU-hour per option, NAME=PRICE,... (NAME: a whole word of the "
        "profile's metadata.hardware or of its file name), e.g. h100=2.5,h200=3.4; overrides the "
        "profile's metadata.cost_per_gpu_hour.",
    ),
    click.option(
        "--gpu-budget", type=click.IntRange(min=1), help="Hardware choice: at most this many GPUs."
    ),
    click.option("--max-cost-per-hour", help="Hardware choice: at most this price per hour."),
]

#: Options of ``size`` that do not apply to a hardware choice, and why.
_NOT_WITH_MIX = (
    ("profile_path", "--profile", "give every option as --prefill-profile/--decode-profile"),
    ("trace_path", "--trace", "a hardware choice plans on the mean rate"),
    ("export_engine", "--export", "export the chosen pair's profile with --profile"),
    ("verify", "--verify", "verify the chosen pair with --profile"),
    ("confidence", "--confidence", "plan the chosen pair with --profile"),
    ("prefill_max_tps", "--prefill-max-tps", "what-ifs apply to one profile"),
    ("overhead", "--overhead", "what-ifs apply to one profile"),
    ("decode_table", "--decode-table", "what-ifs apply to one profile"),
    ("prefill_tps", "--prefill-tps", "what-ifs apply to one profile"),
    ("decode_tps", "--decode-tps", "what-ifs apply to one profile"),
    ("prefill_gpus", "--prefill-gpus", "each profile states its GPUs per instance"),
    ("mode", "--mode", "a hardware choice plans disaggregated serving"),
    ("decode_gpus", "--decode-gpus", "each profile states its GPUs per instance"),
)


def wants_mix(kw: SizeOptions) -> bool:
    """True when a hardware option is given (refusing the options that do not go with one);
    refuses the budget options without one."""
    if kw["prefill_profiles"] or kw["decode_profiles"]:
        for name, option, why in _NOT_WITH_MIX:
            if kw.get(name) and given(name):
                raise ConfigError(f"{option} and a hardware choice do not go together: {why}")
        return True
    for name, option in (
        ("gpu_cost", "--gpu-cost"),
        ("gpu_budget", "--gpu-budget"),
        ("max_cost_per_hour", "--max-cost-per-hour"),
    ):
        if kw.get(name) is not None:
            raise ConfigError(f"{option} applies to a hardware choice: give --prefill-profile/"
                              "--decode-profile files")  # fmt: skip
    return False


def _prices(text: str | None) -> dict[str, float]:
    if not text:
        return {}
    prices: dict[str, float] = {}
    for item in text.split(","):
        name, sep, value = item.partition("=")
        try:
            price = float(value)
        except ValueError:
            price = float("nan")
        if not sep or not name.strip() or not 0 < price < 1e6:
            raise ConfigError(
                f"--gpu-cost: cannot read {item!r}; expected NAME=PRICE with a price > 0, e.g. "
                "h100=2.5,h200=3.4"
            )
        key = name.strip().lower()
        if key in prices:
            raise ConfigError(
                f"--gpu-cost: {name.strip()!r} is priced twice ({prices[key]:g} and {price:g}); "
                "give each name one price"
            )
        prices[key] = price
    return prices


def _words(*texts: str) -> set[str]:
    """The words a price's NAME may match: whole words of the file name and the hardware
    (``8xH200`` is also ``h200``), and each text whole, so that ``h20`` does not price an
    H200.

    >>> sorted(_words("h200-sglang", "8xH200"))
    ['8xh200', 'h200', 'h200-sglang', 'sglang']
    """
    out: set[str] = set()
    for text in texts:
        lowered = text.lower().strip()
        if lowered:
            out.add(lowered)
        for word in re.findall(r"[a-z0-9]+", lowered):
            out.add(word)
            out.add(re.sub(r"^\d+x(?=[a-z])", "", word))
    return out


def _options(
    paths: tuple[str, ...], prices: dict[str, float], used: set[str]
) -> list[HardwareOption]:
    from pdplan.io import load_profile
    from pdplan.plan.hardware import HardwareOption

    out: list[HardwareOption] = []
    for path in paths:
        profile = load_profile(path)
        name = Path(path).stem  # short; the hardware is matched too, and shown by --json
        if any(o.name == name for o in out):
            name = f"{name} ({Path(path).stem})"
        words = _words(name, profile.metadata.hardware or "")
        matches = [key for key in prices if key in words]
        if len(matches) > 1:
            raise ConfigError(f"--gpu-cost: {', '.join(matches)} all match {name!r}; use one")
        used.update(matches)
        cost = prices[matches[0]] if matches else profile.metadata.cost_per_gpu_hour
        out.append(HardwareOption(name=name, profile=profile, cost_per_gpu_hour=cost))
    return out


def size_mix(kw: SizeOptions, workload: Workload) -> None:
    """Plan the cheapest pair and print it, the pairs and the Pareto front."""
    from pdplan.plan.hardware import plan_mix
    from pdplan.units import parse_count

    prices = _prices(kw["gpu_cost"])
    used: set[str] = set()
    prefill_paths = kw["prefill_profiles"] or kw["decode_profiles"]
    decode_paths = kw["decode_profiles"] or kw["prefill_profiles"]
    prefill = _options(prefill_paths, prices, used)
    decode = _options(decode_paths, prices, used)
    unused = sorted(set(prices) - used)
    if unused:
        raise ConfigError(
            f"--gpu-cost: {', '.join(unused)} matches no profile's hardware or file name"
        )
    budget = kw["max_cost_per_hour"]
    max_cost = None if budget is None else parse_count(budget, "--max-cost-per-hour")
    from pdplan.report.progress import working

    with working("planning every pair of hardware options"):
        mix = plan_mix(
            prefill,
            decode,
            workload,
            slo_from(kw),
            model=kw["model"],
            prefill_routing=kw["routing"],
            decode_routing=kw["decode_routing"],
            gpu_budget=kw["gpu_budget"],
            max_cost_per_hour=max_cost,
        )
    for warning in [*mix.warnings, *mix.plan.warnings]:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    if kw["as_json"]:
        out = mix.model_dump(mode="json")
        out["plan"] = mix.plan.model_dump(mode="json")
        click.echo(json.dumps(out, indent=2, allow_nan=False))
        return
    from rich.console import Console

    from pdplan.report.mix_tables import render_mix

    render_mix(mix, Console())
