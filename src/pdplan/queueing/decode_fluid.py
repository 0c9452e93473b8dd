"""Decode over a known arrival sequence: a balanced pool of continuous-batching instances as
one fluid, followed request by request. Pure.

Least-loaded placement keeps the instances' batches within about one of each other, so with
``N`` requests in decode on ``n`` instances each runs a batch of about ``x = N / n``: a share
``x - floor(x)`` of the instances holds one request more. Every request advances one token per
TPOT of its instance's batch; the model gives all of them the request-weighted mean TPOT of
that split and a common token clock, and admits at most ``n * cap`` at once (the rest wait, in
order, and the wait is part of their TPOT, as in the simulator). ``N`` is the trace's own: its
arrivals, its output lengths, its bursts and the lag of a decode behind them; nothing is
stationary or averaged over a window. What it leaves out is the imbalance departures leave
between instances (a batch more than one apart), which costs a little TPOT where TPOT is
convex in the batch.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Sequence

__all__ = ["balanced_decode_tpots_s"]

_EPS_TOKENS = 1e-7
#: Counts in decode up to this many have their pool TPOT tabulated.
_POOL_TABLE = 1 << 16


def _pool_tpot_s(active: int, instances: int, table: Sequence[float]) -> float:
    """The request-weighted mean TPOT with ``active`` requests split evenly over
    ``instances`` (``table[b - 1]``: TPOT at batch b)."""
    x = active / instances
    if x <= 1:
        return table[0]
    k = int(x)
    phi = x - k
    if phi < 1e-12:
        return table[k - 1]
    return (phi * (k + 1) * table[k] + (1 - phi) * k * table[k - 1]) / x


def balanced_decode_tpots_s(
    start_s: Sequence[float],
    osl_tokens: Sequence[float],
    instances: int,
    table: Sequence[float],
) -> list[float | None]:
    """Each request's TPOT (None below two output tokens) when it joins decode at
    ``start_s`` with ``osl_tokens`` to generate (the first from prefill), on ``instances``
    balanced instances of at most ``len(table)`` requests each.

    One instance, TPOT 10 ms alone and 20 ms in pairs: a request of 11 tokens alone takes
    0.1 s; two that overlap fully each run at 20 ms:

    >>> balanced_decode_tpots_s([0.0], [11], 1, [0.01, 0.02])
    [0.01]
    >>> [round(t, 6) for t in balanced_decode_tpots_s([0.0, 0.0], [11, 11], 1, [0.01, 0.02])]
    [0.02, 0.02]
    >>> # a batch cap of one: the second waits for the first (0.1 s), then runs alone
    >>> [round(t, 6) for t in balanced_decode_tpots_s([0.0, 0.0], [11, 11], 1, [0.01])]
    [0.01, 0.02]
    """
    n = len(start_s)
    order = sorted(range(n), key=start_s.__getitem__)
    joined: list[float] = [0.0] * n
    done: list[float | None] = [None] * n
    limit = instances * len(table)
    # the pool's TPOT for every count in decode, looked up rather than computed per event
    pool = [_pool_tpot_s(k, instances, table) for k in range(min(limit, _POOL_TABLE) + 1)]
    heap: list[tuple[float, int]] = []  # (token clock at finish, request)
    waiting: deque[int] = deque()
    clock = 0.0  # tokens each active request has generated since the start
    now = start_s[order[0]] if n else 0.0
    tpot = table[0]
    nxt = 0
    while nxt < n or heap:
        arrive = start_s[order[nxt]] if nxt < n else math.inf
        finish = now + (heap[0][0] - clock) * tpot if heap else math.inf
        if arrive <= finish:
            if heap:
                clock += (arrive - now) / tpot
            now = arrive
            i = order[nxt]
            nxt += 1
            joined[i] = now
            if osl_tokens[i] < 2:
                done[i] = now
                continue
            if len(heap) < limit:
                heapq.heappush(heap, (clock + osl_tokens[i] - 1, i))
            else:
                waiting.append(i)
        else:
            clock, now = heap[0][0], finish
            while heap and heap[0][0] <= clock + _EPS_TOKENS:
                done[heapq.heappop(heap)[1]] = now
            while waiting and len(heap) < limit:
                j = waiting.popleft()
                heapq.heappush(heap, (clock + osl_tokens[j] - 1, j))
        active = len(heap)
        tpot = pool[active] if active <= _POOL_TABLE else _pool_tpot_s(active, instances, table)
    return [
        None if osl_tokens[i] < 2 or d is None else (d - joined[i]) / (osl_tokens[i] - 1)
        for i, d in enumerate(done)
    ]
