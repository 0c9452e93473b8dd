"""Request-length distributions (tokens). Each samples with a caller-supplied ``random.Random``.

A ``kind`` field discriminates the variants, so a config file can say
``isl: {kind: lognormal, mean_tokens: 2000, sigma: 0.8}``.
"""

from __future__ import annotations

import math
import random
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["Empirical", "Exponential", "Fixed", "LengthDist", "Lognormal", "Uniform"]

_CONFIG = ConfigDict(extra="forbid", frozen=True)


class Fixed(BaseModel):
    """Every request has exactly ``tokens`` tokens.

    >>> Fixed(tokens=7).sample(random.Random(0))
    7
    """

    model_config = _CONFIG
    kind: Literal["fixed"] = "fixed"
    tokens: int = Field(gt=0)

    @property
    def mean_tokens(self) -> float:
        return float(self.tokens)

    @property
    def scv(self) -> float:
        """Squared coefficient of variation, Var / mean^2."""
        return 0.0

    def sample(self, rng: random.Random) -> int:
        return self.tokens


class Exponential(BaseModel):
    """Exponential with the given mean, rounded up to a whole token (>= 1)."""

    model_config = _CONFIG
    kind: Literal["exponential"] = "exponential"
    mean_tokens: float = Field(gt=0, allow_inf_nan=False)

    @property
    def scv(self) -> float:
        return 1.0

    def sample(self, rng: random.Random) -> int:
        return max(1, math.ceil(rng.expovariate(1.0 / self.mean_tokens)))


class Uniform(BaseModel):
    """Uniform integer in [low_tokens, high_tokens]."""

    model_config = _CONFIG
    kind: Literal["uniform"] = "uniform"
    low_tokens: int = Field(gt=0)
    high_tokens: int = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high_tokens < self.low_tokens:
            raise ValueError(f"high_tokens {self.high_tokens} < low_tokens {self.low_tokens}")
        return self

    @property
    def mean_tokens(self) -> float:
        return (self.low_tokens + self.high_tokens) / 2

    @property
    def scv(self) -> float:
        width = self.high_tokens - self.low_tokens + 1
        return ((width**2 - 1) / 12) / self.mean_tokens**2

    def sample(self, rng: random.Random) -> int:
        return rng.randint(self.low_tokens, self.high_tokens)


class Lognormal(BaseModel):
    """Lognormal with the given mean and log-space sigma (heavy-tailed), >= 1 token."""

    model_config = _CONFIG
    kind: Literal["lognormal"] = "lognormal"
    mean_tokens: float = Field(gt=0, allow_inf_nan=False)
    sigma: float = Field(gt=0, allow_inf_nan=False)

    @property
    def scv(self) -> float:
        return math.expm1(self.sigma**2)

    def sample(self, rng: random.Random) -> int:
        mu = math.log(self.mean_tokens) - self.sigma**2 / 2
        return max(1, round(rng.lognormvariate(mu, self.sigma)))


class Empirical(BaseModel):
    """Draws uniformly from observed lengths (e.g. a trace's ISLs)."""

    model_config = _CONFIG
    kind: Literal["empirical"] = "empirical"
    values_tokens: list[Annotated[int, Field(gt=0)]] = Field(min_length=1)

    @property
    def mean_tokens(self) -> float:
        return sum(self.values_tokens) / len(self.values_tokens)

    @property
    def scv(self) -> float:
        mean = self.mean_tokens
        var = sum((v - mean) ** 2 for v in self.values_tokens) / len(self.values_tokens)
        return var / mean**2

    def sample(self, rng: random.Random) -> int:
        return self.values_tokens[rng.randrange(len(self.values_tokens))]


LengthDist = Annotated[
    Fixed | Exponential | Uniform | Lognormal | Empirical, Field(discriminator="kind")
]


def parse_length_spec(spec: str, mean_tokens: int, field: str) -> LengthDist:
    """A length distribution from a short command-line spec, around ``mean_tokens``.

    ``fixed``, ``exponential``, ``lognormal:SIGMA``, ``uniform`` (mean +- 50 %) or
    ``uniform:LOW-HIGH``.

    >>> parse_length_spec("lognormal:0.8", 2000, "--isl-dist").sigma
    0.8
    >>> parse_length_spec("uniform:100-300", 200, "--isl-dist").high_tokens
    300
    """
    from pdplan.errors import ConfigError

    allowed = "fixed, exponential, lognormal:SIGMA, uniform or uniform:LOW-HIGH"
    kind, _, arg = spec.partition(":")
    try:
        if kind == "fixed" and not arg:
            return Fixed(tokens=mean_tokens)
        if kind == "exponential" and not arg:
            return Exponential(mean_tokens=mean_tokens)
        if kind == "lognormal" and arg:
            return Lognormal(mean_tokens=mean_tokens, sigma=float(arg))
        if kind == "uniform" and not arg:
            half = mean_tokens // 2
            return Uniform(low_tokens=max(1, mean_tokens - half), high_tokens=mean_tokens + half)
        if kind == "uniform" and arg:
            low, _, high = arg.partition("-")
            return Uniform(low_tokens=int(low), high_tokens=int(high))
    except ValueError as exc:
        first = str(exc).splitlines()[0]
        raise ConfigError(f"{field}: bad value in {spec!r} ({first}); expected {allowed}") from None
    raise ConfigError(f"{field}: unknown distribution {spec!r}; expected {allowed}")
