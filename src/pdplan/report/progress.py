"""Progress on stderr (rich): bars for measurement steps, fed through the bench ``Reporter``
protocol, and a spinner for computations that take seconds (simulations, searches)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rich.console import Console

if TYPE_CHECKING:
    from rich.progress import TaskID

    from pdplan.bench.records import RequestRecord

__all__ = ["RichReporter", "working"]


@contextmanager
def working(message: str) -> Iterator[Any]:
    """A spinner with ``message`` on stderr while the block runs; yields the status (call
    ``.update(text)`` to say what it is doing). Nothing is drawn when stderr is not a terminal.
    """
    console = Console(stderr=True)
    with console.status(message, spinner="dots") as status:
        yield status


class RichReporter:
    """One bar per step; failed requests are counted in the bar's description."""

    def __init__(self, console: Console) -> None:
        from rich.progress import (  # only where bars are drawn: not on every command's start
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.console = console
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._task: TaskID | None = None
        self._name = ""
        self._failed = 0
        self._started = False

    def __enter__(self) -> RichReporter:
        return self  # the bars start with the first step: a run that fails first draws none

    def __exit__(self, *exc: object) -> None:
        if self._started:
            self.progress.stop()

    def step_started(self, name: str, total: int) -> None:
        if not self._started:
            self.progress.start()
            self._started = True
        self._name, self._failed = name, 0
        self._task = self.progress.add_task(name, total=total)

    def request_done(self, record: RequestRecord) -> None:
        if self._task is None:
            return
        if not record.ok:
            self._failed += 1
            self.progress.update(self._task, description=f"{self._name} [red]{self._failed} failed")
        self.progress.advance(self._task)
        task = self.progress.tasks[-1]
        if task.total is not None and task.completed > task.total:  # ran on for min duration
            self.progress.update(self._task, total=task.completed)

    def step_done(self, name: str, summary: dict[str, Any]) -> None:
        pass

    def note(self, message: str) -> None:
        self.progress.console.print(f"[yellow]note:[/] {message}")
