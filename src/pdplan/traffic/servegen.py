"""Days of traffic from ServeGen's production-derived client pools (alibaba/ServeGen,
Apache-2.0; Xiang et al., arXiv 2505.09999), generated reproducibly. Pure: the files' text in
(``pdplan.io`` reads the folder), a :class:`~pdplan.schema.trace.Trace` out.

A pool is a folder ``data/<category>/<model>/`` of clients, each ``chunk-N-trace.csv`` (one row
per window, usually 600 s: ``start_s, rate_rps, cv, pattern, p1, p2``, the pattern ``Gamma``
(shape, scale) or ``Weibull`` (shape, scale) of the inter-arrival times; an idle window has no
pattern) and ``chunk-N-dataset.json`` (``{window_start_s: {field: "{tokens: probability}"}}``,
the input and output length distributions, held until the next window that has them; an empty
distribution holds the previous one). As ServeGen's own generator does it, per window and
client: draw ``ceil(rate x window)`` gaps from the pattern, rescale them to fill the window
(the window's rate holds exactly, its burstiness is the pattern's), keep the arrivals inside
the window, and draw each request's lengths from the window's distributions. ``rate_scale``
multiplies every client's rate (production rates are far above one deployment's).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from pdplan.errors import ConfigError
from pdplan.schema.lengths import MAX_TOKENS
from pdplan.schema.trace import MAX_TRACE_REQUESTS, Trace

__all__ = ["ClientData", "ServeGenPool", "generate", "parse_client"]


@dataclass(frozen=True)
class _Window:
    start_s: float
    rate_rps: float
    pattern: str  # "Gamma", "Weibull" or "" (idle)
    p1: float
    p2: float


@dataclass(frozen=True)
class ClientData:
    """One client: its windows, and its length distributions from the times they apply."""

    client: int
    windows: tuple[_Window, ...]
    lengths: tuple[tuple[float, np.ndarray, np.ndarray], ...]  # (from_s, input cdf, output cdf)


@dataclass(frozen=True)
class ServeGenPool:
    """The clients of one model, and those left out (no dataset file)."""

    source: str
    clients: tuple[ClientData, ...]
    skipped: tuple[int, ...]


_PAIR = re.compile(r"\s*(\d+)\s*:\s*([0-9.eE+-]+)\s*(?:,|$)")


def _cdf(text: str, where: str) -> np.ndarray | None:
    """A ``{tokens: probability}`` literal (ServeGen writes a Python dict) as a CDF over
    0..max tokens; None when empty. Read as pairs, never evaluated.

    >>> _cdf("{1: 0.25, 3: 0.75}", "x").tolist()
    [0.0, 0.25, 0.25, 1.0]
    """
    body = text.strip()
    if not (body.startswith("{") and body.endswith("}")):
        raise ConfigError(f"{where}: not a {{tokens: probability}} literal")
    body = body[1:-1].strip()
    if not body:
        return None
    pairs, at = [], 0
    for match in _PAIR.finditer(body):
        if match.start() != at:
            break
        pairs.append((int(match.group(1)), match.group(2)))
        at = match.end()
    if at != len(body):
        raise ConfigError(
            f"{where}: not a {{tokens: probability}} literal near {body[at : at + 20]!r}"
        )
    top = max(k for k, _ in pairs)
    if top > MAX_TOKENS:
        raise ConfigError(f"{where}: token counts must be whole numbers in 0..{MAX_TOKENS:,}")
    probs = np.zeros(top + 1)
    for k, text_p in pairs:
        try:
            p = float(text_p)
        except ValueError:
            p = math.nan
        if not 0 <= p <= 1:
            raise ConfigError(f"{where}: probability of {k} tokens is {text_p!r}; expected 0..1")
        probs[k] = p
    total = probs.sum()
    if not 0.98 <= total <= 1.02:
        raise ConfigError(f"{where}: probabilities add up to {total:.4g}, not 1")
    return np.cumsum(probs / total)


def parse_client(client: int, trace_csv: str, dataset: object, source: str) -> ClientData:
    """One client from its trace CSV text and its parsed dataset JSON.

    :raises ConfigError: naming the file, the line and the field
    """
    where = f"{source}/chunk-{client}-trace.csv"
    windows: list[_Window] = []
    for number, line in enumerate(trace_csv.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.strip().split(",")
        if len(parts) != 6:
            raise ConfigError(
                f"{where}:{number}: expected 6 fields (start_s, rate, cv, pattern, p1, p2), got "
                f"{len(parts)}"
            )
        try:
            start, rate, p1, p2 = (float(parts[i]) for i in (0, 1, 4, 5))
        except ValueError:
            raise ConfigError(f"{where}:{number}: a number is not a number: {line!r}") from None
        pattern = parts[3]
        if pattern not in ("", "Gamma", "Weibull"):
            raise ConfigError(
                f"{where}:{number}: arrival pattern {pattern!r}; expected Gamma or Weibull"
            )
        if not (math.isfinite(start) and start >= 0 and math.isfinite(rate) and rate >= 0):
            raise ConfigError(f"{where}:{number}: start and rate must be finite and >= 0")
        if pattern and not (p1 > 0 and p2 > 0 and math.isfinite(p1) and math.isfinite(p2)):
            raise ConfigError(f"{where}:{number}: {pattern} parameters must be > 0, got {p1}, {p2}")
        if windows and start <= windows[-1].start_s:
            raise ConfigError(f"{where}:{number}: windows must be in time order")
        windows.append(_Window(start, rate, pattern if rate > 0 else "", p1, p2))
    if not isinstance(dataset, dict):
        raise ConfigError(f"{source}/chunk-{client}-dataset.json: expected an object")
    lengths = []
    for key in sorted(dataset, key=lambda k: float(k)):
        fields = dataset[key]
        at = f"{source}/chunk-{client}-dataset.json: window {key}"
        if not isinstance(fields, dict):
            raise ConfigError(f"{at}: expected an object of fields")
        text_in, text_out = fields.get("input_tokens"), fields.get("output_tokens")
        if not (isinstance(text_in, str) and isinstance(text_out, str)):
            raise ConfigError(f"{at}: input_tokens and output_tokens must be strings")
        cdf_in = _cdf(text_in, f"{at}: input_tokens")
        cdf_out = _cdf(text_out, f"{at}: output_tokens")
        if cdf_in is None or cdf_out is None:
            continue  # an empty distribution: the previous one holds
        try:
            lengths.append((float(key), cdf_in, cdf_out))
        except ValueError:
            raise ConfigError(f"{at}: the window start is not a number") from None
    return ClientData(client, tuple(windows), tuple(lengths))


def generate(
    pool: ServeGenPool,
    *,
    rate_scale: float,
    start_s: float,
    end_s: float,
    seed: int,
    max_requests: int = MAX_TRACE_REQUESTS,
) -> Trace:
    """The requests of ``[start_s, end_s)`` of the pool's clock (re-based to 0), every client's
    rate times ``rate_scale``.

    :raises ConfigError: when nothing arrives, or more than ``max_requests`` would
    """
    if not (0 < rate_scale < math.inf):
        raise ConfigError(f"--rate-scale must be a finite number > 0, got {rate_scale}")
    rng = np.random.default_rng(seed)
    times: list[np.ndarray] = []
    isls: list[np.ndarray] = []
    osls: list[np.ndarray] = []
    expected = 0.0
    for client in pool.clients:
        starts = [w.start_s for w in client.windows]
        for k, w in enumerate(client.windows):
            end = starts[k + 1] if k + 1 < len(starts) else w.start_s + 600.0
            lo, hi = max(w.start_s, start_s), min(end, end_s)
            if not w.pattern or hi <= lo:
                continue
            lengths = _lengths_at(client, w.start_s)
            if lengths is None:
                continue
            rate = w.rate_rps * rate_scale
            expected += rate * (hi - lo)
            if expected > max_requests:
                raise ConfigError(
                    f"{pool.source}: more than {max_requests:,} requests at --rate-scale "
                    f"{rate_scale:g} over {end_s - start_s:g} s; pdplan replays at most "
                    f"{max_requests:,}: lower --rate-scale or take a shorter --trace-slice"
                )
            t = _arrivals(w, rate, end - w.start_s, rng)
            t = t[(t >= lo) & (t < hi)]
            if not len(t):
                continue
            u_in, u_out = rng.random(len(t)), rng.random(len(t))
            times.append(t)
            isls.append(np.maximum(np.searchsorted(lengths[0], u_in), 1))
            osls.append(np.maximum(np.searchsorted(lengths[1], u_out), 1))
    if not times:
        raise ConfigError(
            f"{pool.source}: no request arrives in {start_s:g}:{end_s:g} s of the pool's clock"
        )
    all_t = np.concatenate(times)
    order = np.argsort(all_t, kind="stable")
    all_t = all_t[order] - start_s
    isl = np.minimum(np.concatenate(isls)[order], MAX_TOKENS)
    osl = np.minimum(np.concatenate(osls)[order], MAX_TOKENS)
    return Trace(
        tuple(all_t.tolist()),
        tuple(isl.tolist()),
        tuple(osl.tolist()),
        source=f"{pool.source}[{start_s:g}:{end_s:g}s x{rate_scale:g} seed {seed}]",
        fmt="servegen",
    )


def _lengths_at(client: ClientData, t: float) -> tuple[np.ndarray, np.ndarray] | None:
    """The length CDFs of the latest dataset window at or before ``t``."""
    found = None
    for start, cdf_in, cdf_out in client.lengths:
        if start > t:
            break
        found = (cdf_in, cdf_out)
    return found


def _arrivals(w: _Window, rate: float, size_s: float, rng: np.random.Generator) -> np.ndarray:
    """ServeGen's draw for one window, ``ceil(rate x size)`` gaps of the pattern rescaled to fill
    the window, as absolute times. The sequence starts at a uniform point of its first gap
    (ServeGen's ends exactly at the window's end, which every client shares: a synchronized
    arrival at each boundary, and floating point decides which window it lands in)."""
    n = max(1, math.ceil(rate * size_s))
    gaps = rng.gamma(w.p1, w.p2, n) if w.pattern == "Gamma" else w.p2 * rng.weibull(w.p1, n)
    total = gaps.sum()
    if not total > 0:
        gaps = np.full(n, 1.0)
        total = float(n)
    phase = rng.random() * gaps[0]
    t = (np.cumsum(gaps) - phase) * (size_s / total) + w.start_s
    last = math.nextafter(w.start_s + size_s, -math.inf)
    out: np.ndarray = np.minimum(t, last)
    return out
