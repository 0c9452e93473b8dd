"""Drive load: closed loop (fixed concurrency) and open loop (a schedule of send times).

A runner takes ``send``: an async function that performs one request and returns its record,
and ``on_record``: called with each record as soon as it ends (the writer and the progress
bar). On cancellation (Ctrl-C) the in-flight requests are cancelled and their partial records
are still passed to ``on_record``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from time import perf_counter

from pdplan.bench.records import RequestRecord

__all__ = ["OnRecord", "Send", "run_closed_loop", "run_open_loop"]

Send = Callable[[int], Awaitable[RequestRecord]]
OnRecord = Callable[[RequestRecord], None]


async def run_closed_loop(
    send: Send,
    concurrency: int,
    total_requests: int,
    on_record: OnRecord,
    stagger_s: float = 0.0,
    min_duration_s: float = 0.0,
) -> list[RequestRecord]:
    """``concurrency`` workers send ``total_requests`` requests back to back.

    A worker sends its next request as soon as its previous one ends, so the engine holds
    ``concurrency`` requests at all times (except at the very start and end). Worker ``k``
    starts ``k * stagger_s`` late: equal-length requests that start together also end
    together and stay in lock-step (all prefills in one step, then pure decode steps), which
    real traffic never does; a stagger of one request duration / concurrency spreads them.
    The loop runs for at least ``total_requests`` requests and ``min_duration_s`` seconds.
    """
    records: list[RequestRecord] = []
    sent = 0
    start = perf_counter()

    def more() -> bool:
        return sent < total_requests or perf_counter() - start < min_duration_s

    async def worker(k: int) -> None:
        nonlocal sent
        await asyncio.sleep(k * stagger_s)
        while more():
            index, sent = sent, sent + 1
            record = await send(index)
            records.append(record)
            on_record(record)

    await asyncio.gather(*(worker(k) for k in range(concurrency)))
    return records


async def run_open_loop(
    send: Send, times_s: Sequence[float], on_record: OnRecord, start_s: float | None = None
) -> list[RequestRecord]:
    """Send request ``i`` at ``times_s[i]`` seconds after the start (now, or the
    ``perf_counter`` time ``start_s``), whatever is in flight.

    Each record's ``extra["send_lag_s"]`` says how late it left against the schedule.
    """
    records: list[RequestRecord] = []
    start = perf_counter() if start_s is None else start_s

    async def one(index: int) -> None:
        record = await send(index)
        # how late the request left against its schedule (the generator's own delay)
        record.extra["send_lag_s"] = record.t_send_s - (start + times_s[index])
        records.append(record)
        on_record(record)

    tasks: list[asyncio.Task[None]] = []
    try:
        for index, t in enumerate(times_s):
            delay = start + t - perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(index)))
        await asyncio.gather(*tasks)
    finally:
        # on Ctrl-C (or any failure) cancel what is in flight and collect every task's end,
        # so that no "Task exception was never retrieved" is left; the cancelled requests'
        # partial records reach on_record from the client
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return records
