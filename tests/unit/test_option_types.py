"""Each command's typed options match what click passes: the same names, and ``None`` allowed
exactly where an option has no default (so that the types mypy checks are the values the
commands get)."""

from __future__ import annotations

import inspect
import types
import typing

import click
import pytest

from pdplan.cli import cli
from pdplan.cli import option_types as ot

COMMANDS = {
    "size": ot.SizeOptions,
    "simulate": ot.SimulateOptions,
    "capacity": ot.CapacityOptions,
    "loadtest": ot.LoadtestOptions,
    "trace": ot.TraceCmdOptions,
    "schedule": ot.ScheduleOptions,
    "import": ot.ImportOptions,
    "compare": ot.CompareOptions,
    "profile prefill": ot.ProfilePrefillOptions,
    "profile decode": ot.ProfileDecodeOptions,
    "profile overhead": ot.ProfileOverheadOptions,
    "profile all": ot.ProfileAllOptions,
    "profile aggregated": ot.ProfileAggregatedOptions,
}


def _command(name: str) -> click.Command:
    command: click.Command | None = cli
    for part in name.split():
        assert isinstance(command, click.Group)
        command = command.get_command(click.Context(command), part)
    assert command is not None
    return command


def _allows_none(hint: object) -> bool:
    union = isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union
    return union and type(None) in typing.get_args(hint)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_typed_options_are_the_options_click_passes(name: str) -> None:
    command = _command(name)
    assert command.callback is not None
    explicit = set(inspect.signature(command.callback).parameters) - {"kw"}
    hints = typing.get_type_hints(COMMANDS[name])
    required = COMMANDS[name].__required_keys__
    passed = {p.name for p in command.params if p.name not in explicit}
    assert passed == set(required), passed ^ set(required)
    for param in command.params:
        if param.name in explicit:
            continue
        assert param.name is not None
        unset = param.default is None or type(param.default).__name__ == "Sentinel"  # click 8.2+
        none = unset and not param.required and not getattr(param, "is_flag", False)
        if param.multiple or param.nargs == -1:
            none = False
        assert _allows_none(hints[param.name]) == none, (param.name, hints[param.name])
