"""A click group whose commands are imported by name on first use (click's documented pattern
for large command lines): ``pdplan size`` does not pay for the load tester's HTTP client or the
simulator, and a group can hold a command whose module imports the group's."""

from __future__ import annotations

import importlib

import click

__all__ = ["LazyGroup"]


class LazyGroup(click.Group):
    """``lazy`` maps a command's name to ``(module, attribute)``; commands added the usual way
    are listed first."""

    def __init__(
        self,
        name: str | None = None,
        *,
        lazy: dict[str, tuple[str, str]] | None = None,
        **attrs: object,
    ) -> None:
        super().__init__(name, **attrs)  # type: ignore[arg-type]  # click's own attributes
        self.lazy = lazy or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*self.commands, *(name for name in self.lazy if name not in self.commands)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name not in self.lazy:
            return super().get_command(ctx, cmd_name)
        module, attribute = self.lazy[cmd_name]
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command
