"""Request-length distributions (tokens). Each samples with a caller-supplied ``random.Random``.

A ``kind`` field discriminates the variants, so a config file can say
``isl: {kind: lognormal, mean_tokens: 2000, sigma: 0.8}``. Every variant knows its mean, its
squared coefficient of variation (SCV, ``Var / mean^2``) and a grid of equally likely points
(:func:`grid_tokens`) from which a planner takes moments of any function of the length, such
as the prefill service time through a TPmax that depends on the length.
"""

from __future__ import annotations

import math
import random
from functools import cached_property
from statistics import NormalDist
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pdplan.errors import ConfigError

__all__ = [
    "MAX_TOKENS",
    "Empirical",
    "Exponential",
    "Fixed",
    "LengthDist",
    "Lognormal",
    "Uniform",
    "grid_tokens",
    "parse_length_spec",
]

_CONFIG = ConfigDict(extra="forbid", frozen=True)
#: No model serves requests longer than this; larger values are typing mistakes.
MAX_TOKENS = 10_000_000
_GRID_POINTS = 2000
Tokens = Annotated[int, Field(gt=0, le=MAX_TOKENS)]


class Fixed(BaseModel):
    """Every request has exactly ``tokens`` tokens.

    >>> Fixed(tokens=7).sample(random.Random(0))
    7
    """

    model_config = _CONFIG
    kind: Literal["fixed"] = "fixed"
    tokens: Tokens

    @property
    def mean_tokens(self) -> float:
        return float(self.tokens)

    @property
    def scv(self) -> float:
        """Squared coefficient of variation, Var / mean^2."""
        return 0.0

    def sample(self, rng: random.Random) -> int:
        return self.tokens

    def quantile_tokens(self, u: float) -> int:
        return self.tokens

    def tail_share(self, tokens: float) -> float:
        """P(length > tokens)."""
        return 1.0 if self.tokens > tokens else 0.0


class Exponential(BaseModel):
    """Exponential with the given mean, rounded up to a whole token (>= 1)."""

    model_config = _CONFIG
    kind: Literal["exponential"] = "exponential"
    mean_tokens: float = Field(gt=0, le=MAX_TOKENS, allow_inf_nan=False)

    @model_validator(mode="after")
    def _mean_holds(self) -> Exponential:
        # E[X; X > c] / E[X] = exp(-c / m) (c / m + 1): the share of the mean that lies
        # beyond the longest request, which sampling clips away
        ratio = MAX_TOKENS / self.mean_tokens
        share = math.exp(-ratio) * (ratio + 1)
        if share > 0.01:
            raise ValueError(
                f"exponential with mean {self.mean_tokens:,.0f} puts {share:.0%} of its mean "
                f"beyond {MAX_TOKENS:,} tokens (the longest request): use a mean of at most "
                f"{MAX_TOKENS / 6.64:,.0f}"
            )
        return self

    @property
    def scv(self) -> float:
        return 1.0

    def sample(self, rng: random.Random) -> int:
        return min(MAX_TOKENS, max(1, math.ceil(rng.expovariate(1.0 / self.mean_tokens))))

    def quantile_tokens(self, u: float) -> int:
        return min(MAX_TOKENS, max(1, math.ceil(-self.mean_tokens * math.log1p(-u))))

    def tail_share(self, tokens: float) -> float:
        """P(length > tokens): a draw ``ceil(E)`` exceeds ``tokens`` when ``E > floor(tokens)``.

        >>> round(Exponential(mean_tokens=100).tail_share(100), 4)
        0.3679
        """
        if tokens >= MAX_TOKENS:
            return 0.0
        return 1.0 if tokens < 1 else math.exp(-math.floor(tokens) / self.mean_tokens)


class Uniform(BaseModel):
    """Uniform integer in [low_tokens, high_tokens]."""

    model_config = _CONFIG
    kind: Literal["uniform"] = "uniform"
    low_tokens: Tokens
    high_tokens: Tokens

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

    def quantile_tokens(self, u: float) -> int:
        width = self.high_tokens - self.low_tokens + 1
        return self.low_tokens + min(int(u * width), width - 1)

    def tail_share(self, tokens: float) -> float:
        """P(length > tokens).

        >>> Uniform(low_tokens=1, high_tokens=4).tail_share(3)
        0.25
        """
        above = self.high_tokens - max(math.floor(tokens), self.low_tokens - 1)
        return min(max(above, 0) / (self.high_tokens - self.low_tokens + 1), 1.0)


class Lognormal(BaseModel):
    """Lognormal with the given mean and log-space sigma (heavy-tailed), >= 1 token.

    ``sigma`` is at most 4 (SCV ~ 9 million): beyond it the samples overflow any context.
    """

    model_config = _CONFIG
    kind: Literal["lognormal"] = "lognormal"
    mean_tokens: float = Field(gt=0, le=MAX_TOKENS, allow_inf_nan=False)
    sigma: float = Field(gt=0, le=4, allow_inf_nan=False)

    @property
    def scv(self) -> float:
        return math.expm1(self.sigma**2)

    @model_validator(mode="after")
    def _mean_holds(self) -> Lognormal:
        # E[X; X > c] / E[X] = Phi(sigma - (ln c - mu) / sigma): the share of the mean that
        # lies beyond the longest request, which sampling clips away
        cut = (math.log(MAX_TOKENS) - self._mu()) / self.sigma
        share = NormalDist().cdf(self.sigma - cut)
        if share > 0.01:
            raise ValueError(
                f"lognormal with mean {self.mean_tokens:g} and sigma {self.sigma:g} puts "
                f"{share:.0%} of its mean beyond {MAX_TOKENS:,} tokens (the longest request), "
                f"so its draws would average {self.mean_tokens * (1 - share):,.0f} tokens, not "
                f"{self.mean_tokens:,.0f}: use a smaller sigma"
            )
        return self

    def _mu(self) -> float:
        return math.log(self.mean_tokens) - self.sigma**2 / 2

    def sample(self, rng: random.Random) -> int:
        return min(MAX_TOKENS, max(1, round(rng.lognormvariate(self._mu(), self.sigma))))

    def quantile_tokens(self, u: float) -> int:
        z = NormalDist().inv_cdf(u)
        return min(MAX_TOKENS, max(1, round(math.exp(self._mu() + self.sigma * z))))

    def tail_share(self, tokens: float) -> float:
        """P(length > tokens) (draws are rounded: ``X >= floor(tokens) + 0.5``)."""
        if tokens >= MAX_TOKENS:
            return 0.0
        cut = math.floor(tokens) + 0.5
        return 1.0 - NormalDist().cdf((math.log(cut) - self._mu()) / self.sigma)


class Empirical(BaseModel):
    """Draws uniformly from observed lengths (e.g. a trace's ISLs)."""

    model_config = _CONFIG
    kind: Literal["empirical"] = "empirical"
    values_tokens: list[Tokens] = Field(min_length=1)

    @cached_property
    def mean_tokens(self) -> float:
        return sum(self.values_tokens) / len(self.values_tokens)

    @cached_property
    def scv(self) -> float:
        mean = self.mean_tokens
        var = sum((v - mean) ** 2 for v in self.values_tokens) / len(self.values_tokens)
        return var / mean**2

    def sample(self, rng: random.Random) -> int:
        return self.values_tokens[rng.randrange(len(self.values_tokens))]

    def tail_share(self, tokens: float) -> float:
        """P(length > tokens): the share of the observed values above it."""
        return sum(1 for v in self.values_tokens if v > tokens) / len(self.values_tokens)


LengthDist = Annotated[
    Fixed | Exponential | Uniform | Lognormal | Empirical, Field(discriminator="kind")
]


def grid_tokens(dist: LengthDist) -> list[int]:
    """Equally likely lengths that stand for the distribution: the value itself (fixed), the
    observed values (empirical), else the quantiles at the midpoints of 2,000 equal slices.

    >>> grid_tokens(Fixed(tokens=5))
    [5]
    >>> g = grid_tokens(Uniform(low_tokens=1, high_tokens=4))
    >>> len(g), sorted(set(g))
    (2000, [1, 2, 3, 4])
    """
    if isinstance(dist, Fixed):
        return [dist.tokens]
    if isinstance(dist, Empirical):
        return list(dist.values_tokens)
    return [dist.quantile_tokens((i + 0.5) / _GRID_POINTS) for i in range(_GRID_POINTS)]


def parse_length_spec(spec: str, mean_tokens: int, field: str) -> LengthDist:
    """A length distribution from a short command-line spec, around ``mean_tokens``.

    ``fixed``, ``exponential``, ``lognormal:SIGMA``, ``uniform`` (mean +- 50 %) or
    ``uniform:LOW-HIGH``.

    >>> parse_length_spec("lognormal:0.8", 2000, "--isl-dist").sigma
    0.8
    >>> parse_length_spec("uniform:100-300", 200, "--isl-dist").high_tokens
    300
    """
    allowed = "fixed, exponential, lognormal:SIGMA (0 < SIGMA <= 4), uniform or uniform:LOW-HIGH"
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
        if hasattr(exc, "errors"):  # pydantic: name the field and what is allowed
            item = exc.errors()[0]
            where = f"{item['loc'][0]}: " if item["loc"] else ""
            first = f"{where}{str(item['msg']).removeprefix('Value error, ')}"
        raise ConfigError(f"{field}: bad value in {spec!r} ({first}); expected {allowed}") from None
    raise ConfigError(f"{field}: unknown distribution {spec!r}; expected {allowed}")
