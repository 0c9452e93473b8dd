"""Arrival processes: when requests come, around a mean rate.

- ``poisson``: exponential gaps (inter-arrival SCV 1), the idealised workload of the paper.
- ``gamma``: a gamma renewal process with inter-arrival SCV ``scv`` (shape ``1 / scv``);
  ``vllm bench serve --burstiness b`` is ``gamma`` with ``scv = 1 / b``. ``scv = 1`` is
  Poisson, ``scv = 0`` evenly spaced arrivals, ``scv > 1`` bursts.
- ``trace``: the arrival times of the workload's trace, replayed (time-scaled to its rate).

Generation is pure: the caller passes a ``random.Random``.
"""

from __future__ import annotations

import random
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from pdplan.errors import ConfigError

__all__ = ["MAX_ARRIVAL_SCV", "Arrivals", "Gamma", "Poisson", "Replay", "parse_arrivals_spec"]

_CONFIG = ConfigDict(extra="forbid", frozen=True)
#: Beyond this a gamma process is a handful of huge batches; no planning model holds there.
MAX_ARRIVAL_SCV = 100.0


class Poisson(BaseModel):
    """Poisson arrivals: independent exponential gaps of mean ``1 / rate``.

    >>> times = Poisson().times_s(10.0, 3, random.Random(1))
    >>> len(times), times == sorted(times)
    (3, True)
    """

    model_config = _CONFIG
    kind: Literal["poisson"] = "poisson"

    @property
    def scv(self) -> float:
        """Squared coefficient of variation of the inter-arrival time."""
        return 1.0

    def times_s(self, rate_rps: float, count: int, rng: random.Random) -> list[float]:
        """``count`` arrival times (seconds from the start) at mean rate ``rate_rps``."""
        t, out, expo = 0.0, [], rng.expovariate
        for _ in range(count):
            t += expo(rate_rps)
            out.append(t)
        return out


class Gamma(BaseModel):
    """A gamma renewal process: independent gamma gaps of mean ``1 / rate`` and SCV ``scv``.

    >>> g = Gamma(scv=4.0)
    >>> times = g.times_s(2.0, 20_000, random.Random(3))
    >>> round(len(times) / times[-1], 1)  # the mean rate holds
    2.0
    """

    model_config = _CONFIG
    kind: Literal["gamma"] = "gamma"
    scv: float = Field(
        ge=0,
        le=MAX_ARRIVAL_SCV,
        allow_inf_nan=False,
        description="inter-arrival SCV (1: Poisson, 0: evenly spaced, >1: bursty)",
    )

    def times_s(self, rate_rps: float, count: int, rng: random.Random) -> list[float]:
        """``count`` arrival times (seconds from the start) at mean rate ``rate_rps``."""
        mean_gap = 1.0 / rate_rps
        t, out = 0.0, []
        if self.scv == 0:
            return [mean_gap * (i + 1) for i in range(count)]
        if self.scv == 1:  # exponential gaps: exactly the Poisson process, same draws
            return Poisson().times_s(rate_rps, count, rng)
        shape, gamma = 1.0 / self.scv, rng.gammavariate
        scale = mean_gap * self.scv
        for _ in range(count):
            t += gamma(shape, scale)
            out.append(t)
        return out


class Replay(BaseModel):
    """Replay the workload's trace: its own arrival times, scaled to the workload's rate."""

    model_config = _CONFIG
    kind: Literal["trace"] = "trace"


Arrivals = Annotated[Poisson | Gamma | Replay, Field(discriminator="kind")]


def parse_arrivals_spec(spec: str, field: str = "--arrivals") -> Poisson | Gamma | Replay:
    """``poisson``, ``gamma:SCV`` or ``trace``.

    >>> parse_arrivals_spec("gamma:4").scv
    4.0
    >>> parse_arrivals_spec("poisson").kind
    'poisson'
    """
    allowed = f"poisson, gamma:SCV (0 <= SCV <= {MAX_ARRIVAL_SCV:g}) or trace"
    kind, _, arg = spec.strip().partition(":")
    if kind == "poisson" and not arg:
        return Poisson()
    if kind == "trace" and not arg:
        return Replay()
    if kind == "gamma" and arg:
        try:
            scv = float(arg)
        except ValueError:
            raise ConfigError(f"{field}: cannot read SCV {arg!r}; expected {allowed}") from None
        if not 0 <= scv <= MAX_ARRIVAL_SCV:
            raise ConfigError(f"{field}: SCV {arg} is out of range; expected {allowed}")
        return Gamma(scv=scv)
    raise ConfigError(f"{field}: cannot read {spec!r}; expected {allowed}")
