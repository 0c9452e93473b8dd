"""A scaling schedule: instance counts per phase that change at given times, and the delay a
new instance takes before it serves.

``steps[k]`` says how many prefill and decode instances must *serve* from ``start_s`` on (the
first step starts at 0). An instance that a step adds is started ``scale_up_delay_s`` earlier
(scheduling, image pull, weight load, warm-up), so that it serves when the step begins, and is
paid for from the moment it is started; an instance a step removes takes no new request from
the step's start and is paid for until it has finished what it holds (drain). Pure.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pdplan.errors import ConfigError

__all__ = ["CSV_HEADER", "MAX_SCHEDULE_STEPS", "Schedule", "ScheduleStep"]

#: The header of a schedule's CSV form.
CSV_HEADER = "start_s,prefill_instances,decode_instances"

_CONFIG = ConfigDict(extra="forbid", frozen=True)
#: The most steps one schedule holds (a day in one-minute steps is 1,440).
MAX_SCHEDULE_STEPS = 100_000
#: The most instances per phase a step may ask for (the simulator's limit).
_MAX_INSTANCES = 1000


class ScheduleStep(BaseModel):
    """The counts that serve from ``start_s`` until the next step."""

    model_config = _CONFIG
    start_s: float = Field(ge=0, le=10 * 365 * 86_400, allow_inf_nan=False)
    prefill_instances: int = Field(ge=1, le=_MAX_INSTANCES)
    decode_instances: int = Field(ge=1, le=_MAX_INSTANCES)

    @property
    def name(self) -> str:
        return f"{self.prefill_instances}P{self.decode_instances}D"


class Schedule(BaseModel):
    """Instance counts over time (see the module docstring).

    >>> s = Schedule(steps=[ScheduleStep(start_s=0, prefill_instances=1, decode_instances=2),
    ...                     ScheduleStep(start_s=600, prefill_instances=3, decode_instances=2)],
    ...              scale_up_delay_s=180)
    >>> s.counts_at(599.0), s.counts_at(600.0), s.max_counts
    ((1, 2), (3, 2), (3, 2))
    """

    model_config = _CONFIG
    steps: list[ScheduleStep] = Field(min_length=1, max_length=MAX_SCHEDULE_STEPS)
    scale_up_delay_s: float = Field(
        0.0,
        ge=0,
        le=86_400,
        allow_inf_nan=False,
        description="from starting an instance to its first served request, seconds",
    )

    @model_validator(mode="after")
    def _ordered(self) -> Schedule:
        if self.steps[0].start_s != 0:
            raise ValueError(
                f"steps: the first step starts at {self.steps[0].start_s:g} s; it must start at 0"
            )
        for before, after in zip(self.steps, self.steps[1:], strict=False):
            if not after.start_s > before.start_s:
                raise ValueError(
                    f"steps: a step at {after.start_s:g} s follows one at {before.start_s:g} s; "
                    "start times must increase"
                )
        return self

    def counts_at(self, time_s: float) -> tuple[int, int]:
        """The (prefill, decode) counts that serve at ``time_s``."""
        current = self.steps[0]
        for step in self.steps:
            if step.start_s > time_s:
                break
            current = step
        return current.prefill_instances, current.decode_instances

    @property
    def max_counts(self) -> tuple[int, int]:
        """The largest count per phase over the schedule."""
        return (
            max(s.prefill_instances for s in self.steps),
            max(s.decode_instances for s in self.steps),
        )

    def to_csv(self) -> str:
        """The steps as CSV (``start_s,prefill_instances,decode_instances``), the form
        ``pdplan simulate --schedule`` reads.

        >>> print(Schedule.static(2, 3).to_csv(), end="")
        start_s,prefill_instances,decode_instances
        0,2,3
        """
        rows = [CSV_HEADER] + [
            f"{s.start_s:g},{s.prefill_instances},{s.decode_instances}" for s in self.steps
        ]
        return "\n".join(rows) + "\n"

    @classmethod
    def from_csv(cls, text: str, source: str, scale_up_delay_s: float = 0.0) -> Schedule:
        """Steps read from :meth:`to_csv`'s form (a header line, then one step per line).

        :raises ConfigError: naming the line and the field that is wrong
        """
        lines = [(i, line.strip()) for i, line in enumerate(text.splitlines(), 1)]
        lines = [(i, line) for i, line in lines if line]
        if not lines or lines[0][1].replace(" ", "") != CSV_HEADER:
            raise ConfigError(f"{source}: the first line must be the header {CSV_HEADER!r}")
        steps = []
        for i, line in lines[1:]:
            fields = [f.strip() for f in line.split(",")]
            if len(fields) != 3:
                raise ConfigError(f"{source}: line {i}: expected 3 fields, got {len(fields)}")
            try:
                start, p, d = float(fields[0]), int(fields[1]), int(fields[2])
            except ValueError:
                raise ConfigError(
                    f"{source}: line {i}: {line!r} is not start_s (seconds), then whole "
                    "prefill and decode counts"
                ) from None
            try:
                steps.append(ScheduleStep(start_s=start, prefill_instances=p, decode_instances=d))
            except ValueError as exc:
                raise ConfigError(f"{source}: line {i}: {_first_error(exc)}") from None
        if not steps:
            raise ConfigError(f"{source}: no step after the header")
        try:
            return cls(steps=steps, scale_up_delay_s=scale_up_delay_s)
        except ValueError as exc:
            raise ConfigError(f"{source}: {_first_error(exc)}") from None

    @classmethod
    def static(cls, prefill: int, decode: int) -> Schedule:
        """One allocation for the whole run."""
        return cls(
            steps=[ScheduleStep(start_s=0, prefill_instances=prefill, decode_instances=decode)]
        )


def _first_error(exc: ValueError) -> str:
    """One line for a validation error: the field, the value and what is allowed."""
    if isinstance(exc, ValidationError):
        e = exc.errors()[0]
        where = ".".join(str(x) for x in e["loc"])
        msg = str(e["msg"]).removeprefix("Value error, ")
        return f"{where}: {msg} (got {e['input']!r})" if where else msg
    return str(exc).splitlines()[0]
