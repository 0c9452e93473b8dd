"""What the user asks for: the traffic (one value object) and the latency SLOs.

A :class:`Workload` is everything about the traffic that the planner, the simulator and the
load tester need, so that they cannot disagree on the scenario: request lengths (ISL and OSL
distributions, jointly from a trace when there is one), the arrival process, the mean rate
(the throughput target) and the prefix-cache hit rate. :meth:`Workload.requests` draws the
concrete requests; the simulator and the load tester both use it.
"""

from __future__ import annotations

import random
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_serializer, model_validator

from pdplan.errors import ConfigError
from pdplan.quantiles import Stat
from pdplan.schema.arrivals import Arrivals, Gamma, Poisson, Replay
from pdplan.schema.lengths import Empirical, Fixed, LengthDist, grid_tokens
from pdplan.schema.trace import Trace
from pdplan.units import tpm_to_tps, tps_to_tpm

__all__ = ["MAX_RATE_RPS", "MIN_RATE_RPS", "SLO", "Workload", "check_rate_rps"]

_CONFIG = ConfigDict(extra="forbid", frozen=True)
#: Share of generated (not replayed) requests a simulation ignores while queues fill.
WARMUP_SHARE = 0.1
#: Drawn lengths may exceed an instance's KV cache with at most this probability.
_MISFIT_SHARE = 1e-6
#: The target rates pdplan plans for: below, a typo (3.6 requests an hour); above, more than
#: any one deployment serves (a million requests a second).
MIN_RATE_RPS, MAX_RATE_RPS = 1e-3, 1e6


def check_rate_rps(rate_rps: float, field: str) -> float:
    """Refuse a target rate outside [:data:`MIN_RATE_RPS`, :data:`MAX_RATE_RPS`].

    >>> check_rate_rps(12.5, "--rps")
    12.5
    """
    if not MIN_RATE_RPS <= rate_rps <= MAX_RATE_RPS:
        raise ConfigError(
            f"{field}: the target is {rate_rps:.6g} req/s; pdplan plans for "
            f"{MIN_RATE_RPS:g} to {MAX_RATE_RPS:g} req/s (3.6 requests an hour to a million a "
            "second): check the value and its unit"
        )
    return rate_rps


class Workload(BaseModel):
    """The traffic: lengths, arrivals, mean rate, prefix reuse.

    ``total_tps`` is the mean target throughput, input plus output tokens (the paper's
    definition: 5 M tokens per minute is 83,333 tok/s); the mean request rate is
    ``total_tps / (mean ISL + mean OSL)``. ``isl_tokens=``/``osl_tokens=`` are shorthand for
    fixed lengths. With a ``trace`` the lengths are the trace's (drawn jointly, per request)
    and ``arrivals`` is ``trace`` (replayed, time-scaled to the rate) unless another process is
    given (the trace's lengths with Poisson or gamma arrivals at the same mean rate).

    >>> w = Workload.from_tpm(isl_tokens=6144, osl_tokens=512, tpm=5e6)
    >>> round(w.total_tps, 1), round(w.rate_rps, 3), w.arrivals.kind
    (83333.3, 12.52, 'poisson')
    """

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    isl: LengthDist = Field(description="input (prompt) length distribution, tokens")
    osl: LengthDist = Field(description="output length distribution, tokens")
    total_tps: float = Field(
        gt=0, allow_inf_nan=False, description="mean target throughput, input + output tokens/s"
    )
    arrivals: Arrivals = Field(default_factory=Poisson, description="the arrival process")
    prefix_hit_rate: float = Field(
        0.0,
        ge=0.0,
        lt=1.0,
        allow_inf_nan=False,
        description="share of input tokens served from the prefix cache, in [0, 1)",
    )
    trace: Trace | None = Field(None, description="the requests of a trace, when planned for one")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            for name in ("isl", "osl"):
                tokens = data.pop(f"{name}_tokens", None)
                if tokens is not None:
                    if name in data:
                        raise ValueError(f"give {name} or {name}_tokens, not both")
                    data[name] = Fixed(tokens=tokens)
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Workload:
        if isinstance(self.arrivals, Replay) and self.trace is None:
            raise ValueError("arrivals 'trace' replays a trace: give the trace")
        if self.trace is not None and not (
            isinstance(self.isl, Empirical) and isinstance(self.osl, Empirical)
        ):
            raise ValueError("with a trace the lengths are the trace's: use Workload.from_trace")
        return self

    @field_serializer("isl", "osl")
    def _dump_lengths(self, dist: LengthDist) -> dict[str, Any]:
        if isinstance(dist, Empirical):  # a summary, not every value
            return {
                "kind": "empirical",
                "count": len(dist.values_tokens),
                "mean_tokens": dist.mean_tokens,
                "scv": dist.scv,
            }
        return dist.model_dump(mode="json")

    @field_serializer("trace")
    def _dump_trace(self, trace: Trace | None) -> dict[str, Any] | None:
        if trace is None:
            return None
        return {
            "source": trace.source,
            "format": trace.fmt,
            "requests": len(trace),
            "span_s": trace.span_s,
            "mean_rate_rps": trace.mean_rate_rps,
            "time_scale": self.time_scale,
        }

    # -- construction ---------------------------------------------------------------------

    @classmethod
    def from_tpm(cls, *, tpm: float, **fields: Any) -> Workload:
        """Build from a target in tokens per minute (input + output); ``fields``: the rest
        (``isl_tokens=``/``osl_tokens=`` for fixed lengths, or ``isl=``/``osl=``)."""
        return cls(total_tps=tpm_to_tps(tpm), **fields)

    @classmethod
    def from_rps(cls, *, rate_rps: float, **fields: Any) -> Workload:
        """Build from a target request rate (requests/s); ``fields`` as in :meth:`from_tpm`.

        >>> Workload.from_rps(rate_rps=2.0, isl_tokens=100, osl_tokens=50).total_tps
        300.0
        """
        shape = cls(total_tps=1.0, **fields)
        return shape.with_rate(rate_rps)

    @classmethod
    def from_trace(
        cls,
        trace: Trace,
        *,
        time_scale: float = 1.0,
        rate_rps: float | None = None,
        arrivals: Poisson | Gamma | Replay | None = None,
        prefix_hit_rate: float = 0.0,
    ) -> Workload:
        """The traffic of a trace, replayed ``time_scale`` times faster (or at ``rate_rps``).

        >>> t = Trace((0.0, 1.0, 2.0), (100, 200, 300), (10, 20, 30))
        >>> w = Workload.from_trace(t, time_scale=4.0)
        >>> w.rate_rps, w.isl_tokens, w.arrivals.kind
        (4.0, 200.0, 'trace')
        """
        if not time_scale > 0 or time_scale == float("inf"):
            raise ConfigError(f"time scale must be a finite number > 0, got {time_scale}")
        rate = rate_rps if rate_rps is not None else trace.mean_rate_rps * time_scale
        isl = Empirical(values_tokens=list(trace.isl_tokens))
        osl = Empirical(values_tokens=list(trace.osl_tokens))
        return cls(
            isl=isl,
            osl=osl,
            total_tps=rate * (isl.mean_tokens + osl.mean_tokens),
            arrivals=arrivals or Replay(),
            prefix_hit_rate=prefix_hit_rate,
            trace=trace,
        )

    def with_rate(self, rate_rps: float) -> Workload:
        """The same traffic at another mean request rate (a trace replays faster or slower)."""
        if not rate_rps > 0 or rate_rps == float("inf"):
            raise ConfigError(f"request rate must be a finite number > 0 req/s, got {rate_rps}")
        return self.model_copy(update={"total_tps": rate_rps * self.tokens_per_request})

    def scaled(self, factor: float) -> Workload:
        """The same traffic ``factor`` times heavier.

        >>> Workload.from_rps(rate_rps=2.0, isl_tokens=100, osl_tokens=50).scaled(1.5).rate_rps
        3.0
        """
        return self.with_rate(self.rate_rps * factor)

    # -- derived quantities ---------------------------------------------------------------

    @property
    def isl_tokens(self) -> float:
        """Mean input length, tokens."""
        return self.isl.mean_tokens

    @property
    def osl_tokens(self) -> float:
        """Mean output length, tokens."""
        return self.osl.mean_tokens

    @property
    def isl_scv(self) -> float:
        """Squared coefficient of variation of ISL (0: fixed, 1: exponential)."""
        return self.isl.scv

    @property
    def tokens_per_request(self) -> float:
        """Mean ISL + mean OSL."""
        return self.isl.mean_tokens + self.osl.mean_tokens

    @property
    def rate_rps(self) -> float:
        """Mean request rate lambda = total_tps / (mean ISL + mean OSL), requests/s."""
        return self.total_tps / self.tokens_per_request

    @property
    def tpm(self) -> float:
        """The target in tokens per minute."""
        return tps_to_tpm(self.total_tps)

    @property
    def prefill_isl_tokens(self) -> float:
        """Mean input tokens that prefill must compute: ISL * (1 - prefix_hit_rate)."""
        return self.isl_tokens * (1.0 - self.prefix_hit_rate)

    @property
    def time_scale(self) -> float | None:
        """How many times faster than recorded the trace is replayed (None without one)."""
        if self.trace is None:
            return None
        return self.rate_rps / self.trace.mean_rate_rps

    @property
    def arrival_scv(self) -> float:
        """Inter-arrival SCV of the arrival process (of the trace, when replayed)."""
        if isinstance(self.arrivals, Replay):
            assert self.trace is not None
            return self.trace.interarrival_scv
        return self.arrivals.scv

    @property
    def replays_trace(self) -> bool:
        """True when the requests are the trace's own, at its (scaled) times."""
        return isinstance(self.arrivals, Replay)

    @property
    def warmup_share(self) -> float:
        """Share of requests a simulation ignores: none of a replay (every request counts),
        the first 10 % of generated arrivals (queues start empty)."""
        return 0.0 if self.replays_trace else WARMUP_SHARE

    def check_fits(self, capacity_tokens: int | None, holder: str) -> None:
        """Refuse traffic with requests longer (input + output tokens) than the KV cache of
        one instance (``holder`` names it): every request of a trace must fit; lengths drawn
        from distributions may exceed it with a probability below 1e-6 (the simulator still
        refuses a draw that does not fit, :meth:`Trace.check_fits`).

        :raises ConfigError: naming the requests, or the share of draws, that do not fit

        >>> w = Workload.from_rps(rate_rps=1.0, isl_tokens=150_000, osl_tokens=10)
        >>> w.check_fits(100_000, "a decode instance")
        Traceback (most recent call last):
        pdplan.errors.ConfigError: every request (ISL 150,000 + OSL 10 tokens) needs more KV ...
        """
        if capacity_tokens is None:
            return
        if self.trace is not None:
            self.trace.check_fits(capacity_tokens, holder)
            return
        if isinstance(self.isl, Fixed) and isinstance(self.osl, Fixed):
            if self.isl.tokens + self.osl.tokens > capacity_tokens:
                raise ConfigError(
                    f"every request (ISL {self.isl.tokens:,} + OSL {self.osl.tokens:,} tokens) "
                    f"needs more KV cache than {holder} holds ({capacity_tokens:,} tokens): use "
                    "shorter requests, or plan with a profile whose instances hold more KV cache"
                )
            return
        outs = [self.osl.tokens] if isinstance(self.osl, Fixed) else grid_tokens(self.osl)
        share = sum(self.isl.tail_share(capacity_tokens - o) for o in outs) / len(outs)
        if share >= _MISFIT_SHARE:
            raise ConfigError(
                f"{share:.3g} of the requests drawn from these lengths (mean ISL "
                f"{self.isl_tokens:,.0f} + OSL {self.osl_tokens:,.0f} tokens) need more KV cache "
                f"than {holder} holds ({capacity_tokens:,} tokens): use lengths whose tail fits "
                "(a smaller sigma or mean, or uniform), or plan with a profile whose instances "
                "hold more KV cache"
            )

    def requests(self, count: int, rng: random.Random) -> Trace:
        """The concrete requests: a trace replayed as recorded (time-scaled; ``count`` is
        ignored), or ``count`` arrivals of the process with lengths drawn from the
        distributions (jointly from the trace's requests when there is one).

        >>> w = Workload.from_rps(rate_rps=5.0, isl_tokens=100, osl_tokens=10)
        >>> r = w.requests(3, random.Random(0))
        >>> len(r), r.isl_tokens
        (3, (100, 100, 100))
        """
        if isinstance(self.arrivals, Replay):
            assert self.trace is not None and self.time_scale is not None
            t = self.trace
            return Trace(
                tuple(t.replay_times_s(self.time_scale)),
                t.isl_tokens,
                t.osl_tokens,
                t.hash_ids,
                t.source,
                t.fmt,
            )
        if count < 1:
            raise ConfigError(f"requests to generate must be >= 1, got {count}")
        times = self.arrivals.times_s(self.rate_rps, count, rng)
        if self.trace is not None:
            n, t = len(self.trace), self.trace
            picks = [rng.randrange(n) for _ in range(count)]
            isls = tuple(t.isl_tokens[i] for i in picks)
            osls = tuple(t.osl_tokens[i] for i in picks)
        else:
            isl_sample, osl_sample = self.isl.sample, self.osl.sample
            isls = tuple(isl_sample(rng) for _ in range(count))
            osls = tuple(osl_sample(rng) for _ in range(count))
        return Trace(tuple(times), isls, osls, source="generated", fmt="generated")


class SLO(BaseModel):
    """Latency objectives, met on a statistic: the mean (the paper's) or a percentile.

    >>> SLO(ttft_s=2.0, tpot_s=0.02).tpot_s
    0.02
    """

    model_config = _CONFIG

    ttft_s: float = Field(
        gt=0, le=86_400, allow_inf_nan=False, description="time to first token, seconds"
    )
    tpot_s: float = Field(
        gt=0,
        le=3_600,
        allow_inf_nan=False,
        description="time per output token after the first, seconds",
    )
    ttft_stat: Stat = Field("mean", description="the TTFT statistic that must meet ttft_s")
    tpot_stat: Stat = Field("mean", description="the TPOT statistic that must meet tpot_s")
