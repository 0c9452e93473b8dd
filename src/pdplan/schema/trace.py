"""A request trace: when each request arrived and its input and output lengths.

Columns, not rows (a trace may hold millions of requests): ``arrival_s`` in seconds, sorted,
``isl_tokens`` and ``osl_tokens`` per request, and optionally the prompt's block hash ids
(Mooncake: one id per 512-token block; equal ids across requests are the same prefix). The
readers of the file formats live in :mod:`pdplan.traffic.formats`; this module is pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from pdplan.errors import ConfigError
from pdplan.schema.lengths import MAX_TOKENS

__all__ = ["MAX_TRACE_REQUESTS", "Trace"]

#: The most requests one trace may hold (a simulation replays at most this many): a day at
#: 200 req/s (17 M requests) replays in about 4 minutes and 7.5 GB on one core.
MAX_TRACE_REQUESTS = 20_000_000


@dataclass(frozen=True, slots=True)
class Trace:
    """Requests in arrival order.

    :ivar arrival_s: arrival times in seconds, non-decreasing, >= 0
    :ivar isl_tokens: input tokens per request, >= 1
    :ivar osl_tokens: output tokens per request, >= 1
    :ivar hash_ids: per request, the ids of its prompt's blocks (None if the format has none)
    :ivar source: where it came from (file name), for reports
    :ivar fmt: the file format it was read from

    >>> t = Trace((0.0, 1.0, 2.0, 4.0), (10, 20, 30, 40), (5, 5, 5, 5))
    >>> len(t), t.span_s, round(t.mean_rate_rps, 3)
    (4, 4.0, 0.75)
    >>> t.sliced(1.0, 3.0).arrival_s
    (0.0, 1.0)
    """

    arrival_s: tuple[float, ...]
    isl_tokens: tuple[int, ...]
    osl_tokens: tuple[int, ...]
    hash_ids: tuple[tuple[int, ...], ...] | None = None
    source: str = "trace"
    fmt: str = "pdplan"

    def __post_init__(self) -> None:
        n = len(self.arrival_s)
        if n == 0:
            raise ConfigError(f"{self.source}: the trace has no requests")
        columns = [len(self.isl_tokens), len(self.osl_tokens)]
        if self.hash_ids is not None:
            columns.append(len(self.hash_ids))
        if any(c != n for c in columns):
            raise ConfigError(f"{self.source}: trace columns differ in length ({n}, {columns})")
        previous = 0.0
        for i, t in enumerate(self.arrival_s):
            if not t >= previous:  # also catches NaN
                what = "negative" if t < 0 else "before the previous one" if t < previous else t
                raise ConfigError(
                    f"{self.source}: request {i}: arrival time {t} is {what}; arrival times must "
                    "be >= 0 and sorted"
                )
            previous = t
        for name, column in (("isl_tokens", self.isl_tokens), ("osl_tokens", self.osl_tokens)):
            bad = next((i for i, v in enumerate(column) if not 1 <= v <= MAX_TOKENS), None)
            if bad is not None:
                raise ConfigError(
                    f"{self.source}: request {bad}: {name} {column[bad]} is out of range; "
                    f"allowed 1..{MAX_TOKENS:,}"
                )

    def __len__(self) -> int:
        return len(self.arrival_s)

    @property
    def span_s(self) -> float:
        """Time from the first arrival to the last, seconds."""
        return self.arrival_s[-1] - self.arrival_s[0]

    @property
    def mean_rate_rps(self) -> float:
        """Mean arrival rate: one over the mean gap, ``(n - 1) / span``.

        :raises ConfigError: when every request arrives at the same instant
        """
        if self.span_s <= 0:
            raise ConfigError(
                f"{self.source}: all {len(self)} request(s) arrive at the same instant; a "
                "trace needs a time span to have a rate"
            )
        return (len(self) - 1) / self.span_s

    @property
    def interarrival_scv(self) -> float:
        """Squared coefficient of variation of the gaps between arrivals (1 for Poisson).

        >>> Trace((0.0, 1.0, 2.0, 3.0), (1, 1, 1, 1), (1, 1, 1, 1)).interarrival_scv
        0.0
        """
        times = self.arrival_s
        gaps = [b - a for a, b in pairwise(times)]
        if not gaps or self.span_s <= 0:
            return 1.0
        mean = sum(gaps) / len(gaps)
        return sum((g - mean) ** 2 for g in gaps) / len(gaps) / mean**2

    @property
    def mean_isl_tokens(self) -> float:
        return sum(self.isl_tokens) / len(self)

    @property
    def mean_osl_tokens(self) -> float:
        return sum(self.osl_tokens) / len(self)

    def sliced(self, start_s: float, end_s: float) -> Trace:
        """The requests arriving in ``[start_s, end_s)`` seconds after the first one, with
        times re-based so that the slice starts at its first request."""
        t0 = self.arrival_s[0]
        keep = [i for i, t in enumerate(self.arrival_s) if start_s <= t - t0 < end_s]
        if not keep:
            raise ConfigError(
                f"{self.source}: the slice {start_s:g}:{end_s:g} s holds no request (the trace "
                f"spans 0:{self.span_s:.6g} s from its first request)"
            )
        first = self.arrival_s[keep[0]]
        return Trace(
            tuple(self.arrival_s[i] - first for i in keep),
            tuple(self.isl_tokens[i] for i in keep),
            tuple(self.osl_tokens[i] for i in keep),
            None if self.hash_ids is None else tuple(self.hash_ids[i] for i in keep),
            f"{self.source}[{start_s:g}:{end_s:g}s]",
            self.fmt,
        )

    def clipped(self, max_context_tokens: int) -> Trace:
        """Every request fitted into a context of ``max_context_tokens``: the output is
        clipped to ``max_context - 1``, then the input to what remains (a model with a short
        context cannot serve the longer requests as recorded).

        >>> Trace((0.0, 1.0), (100, 3000), (10, 50)).clipped(2048).isl_tokens
        (100, 1998)
        """
        if max_context_tokens < 2:
            raise ConfigError(f"a context of {max_context_tokens} tokens holds no request")
        osl = tuple(min(o, max_context_tokens - 1) for o in self.osl_tokens)
        isl = tuple(
            min(i, max_context_tokens - o) for i, o in zip(self.isl_tokens, osl, strict=True)
        )
        return Trace(
            self.arrival_s,
            isl,
            osl,
            self.hash_ids,
            f"{self.source}[context {max_context_tokens}]",
            self.fmt,
        )

    def check_fits(self, capacity_tokens: int | None, holder: str) -> None:
        """Refuse requests whose context (input + output tokens) exceeds ``capacity_tokens``,
        the KV cache of one instance (``holder`` names it): no engine serves them, and a
        simulator that let them wait would wait forever.

        :raises ConfigError: naming how many, the largest and the ways out

        >>> Trace((0.0, 1.0), (100, 3000), (10, 50)).check_fits(2048, "a decode instance")
        Traceback (most recent call last):
        pdplan.errors.ConfigError: trace: 1 of 2 requests need more KV cache than a decode ...
        """
        if capacity_tokens is None:
            return
        count, worst, largest = 0, 0, 0
        for i, (isl, osl) in enumerate(zip(self.isl_tokens, self.osl_tokens, strict=True)):
            if isl + osl > capacity_tokens:
                count += 1
                if isl + osl > largest:
                    worst, largest = i, isl + osl
        if count:
            how = (
                f"clip them with --max-context {capacity_tokens}"
                if self.fmt != "generated"
                else "draw lengths that fit"
            )
            raise ConfigError(
                f"{self.source}: {count:,} of {len(self):,} requests need more KV cache than "
                f"{holder} holds ({capacity_tokens:,} tokens); the largest, request {worst}, "
                f"needs {largest:,} (ISL {self.isl_tokens[worst]:,} + OSL "
                f"{self.osl_tokens[worst]:,}): {how}, or plan with a profile whose instances "
                "hold more KV cache"
            )

    def with_osl(self, osl_tokens: int) -> Trace:
        """The same arrivals and inputs, every request generating ``osl_tokens`` (1: prefill
        only).

        >>> Trace((0.0, 1.0), (100, 200), (10, 50)).with_osl(1).osl_tokens
        (1, 1)
        """
        return Trace(
            self.arrival_s,
            self.isl_tokens,
            (osl_tokens,) * len(self),
            self.hash_ids,
            f"{self.source}[OSL {osl_tokens}]",
            self.fmt,
        )

    def replay_times_s(self, time_scale: float) -> list[float]:
        """Arrival times from 0, ``time_scale`` times faster than recorded."""
        t0 = self.arrival_s[0]
        return [(t - t0) / time_scale for t in self.arrival_s]
