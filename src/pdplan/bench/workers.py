"""One open-loop schedule sent by several processes: on this machine, or on a Ray cluster.

One event loop sends a streamed request for ~1-5 ms of CPU (docs/measuring.md), so one
process cannot keep a schedule of more than a few hundred requests/s: it falls behind and
then measures itself. Here the controller draws the step's schedule as always (send times and
lengths), deals request ``i`` to worker ``i mod N``, and each worker, a process with its own
event loop and HTTP client, makes its prompts, waits for the common start, then sends its
share at the schedule's times. Records come back to the controller as they end (in small
batches), and the controller is their only writer: ``records.jsonl``, resume and the step
summaries work as with one process.

**One clock.** Workers on this machine read the controller's clock (``time.perf_counter`` is
the system-wide monotonic clock on Linux), so their send lag is measured against the global
schedule directly. A Ray worker on another machine has its own clocks: the controller measures
each worker's wall-clock offset by a round trip (half the round trip is its uncertainty), and
the worker converts its times to the controller's clock before sending records back. The
offset is reported per worker.

Ray workers are in :mod:`pdplan.bench.ray_pool` (optional: ``pip install 'pdplan[ray]'``).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import queue
import random
import secrets
import signal
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

from pdplan.bench.client import EngineClient, Timeouts
from pdplan.bench.modes import PromptMode
from pdplan.bench.records import RequestRecord
from pdplan.bench.runner import run_open_loop
from pdplan.bench.sending import new_record, send_request
from pdplan.errors import BenchmarkError, ConfigError

__all__ = [
    "CPU_PER_REQUEST_S",
    "LocalPool",
    "Pool",
    "Sender",
    "SenderSpec",
    "Share",
    "WorkerInfo",
    "deal",
    "default_workers",
]

#: CPU one sender spends per streamed request (measured: docs/measuring.md, 4.6 ms with
#: ~128 streamed chunks); sizes the default worker count.
CPU_PER_REQUEST_S = 0.0046
#: A worker is sized to be busy at most this share of its core (room for bursts).
TARGET_BUSY = 0.5
#: How long workers may take to start and make their prompts before the common start.
READY_TIMEOUT_S = 600.0
#: Margin between the last worker being ready and the first send.
START_MARGIN_S = 0.2
#: Records are sent back in batches: at most this many, or after this long.
BATCH_RECORDS, BATCH_S = 64, 0.05


def default_workers(peak_rps: float, cpus: int | None = None) -> int:
    """Workers for a schedule whose busiest step offers ``peak_rps``: each at most half busy
    at :data:`CPU_PER_REQUEST_S`, at most one per CPU of this machine.

    >>> default_workers(50), default_workers(300, cpus=8), default_workers(5000, cpus=2)
    (1, 3, 2)
    """
    need = math.ceil(peak_rps * CPU_PER_REQUEST_S / TARGET_BUSY)
    return max(1, min(need, cpus or os.cpu_count() or 1))


def deal(count: int, workers: int) -> list[list[int]]:
    """Request ``i`` goes to worker ``i mod workers``: every share spans the whole step at
    ``1/workers`` of its rate, and its bursts are the schedule's bursts, thinned.

    >>> deal(5, 2)
    [[0, 2, 4], [1, 3]]
    """
    return [list(range(w, count, workers)) for w in range(workers)]


@dataclass(frozen=True)
class SenderSpec:
    """What a worker needs to send requests as the session would."""

    base_url: str
    model: str
    prompt_mode: PromptMode
    run_id: str
    timeouts: Timeouts = field(default_factory=Timeouts)


@dataclass(frozen=True)
class Share:
    """One worker's part of a step: request indices, their send times (seconds after the
    common start) and (ISL, OSL)."""

    worker: int
    step: str
    indices: tuple[int, ...]
    times_s: tuple[float, ...]
    lengths: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class WorkerInfo:
    """Where a worker ran, and its clock against the controller's."""

    worker: int
    host: str
    clock_offset_s: float | None = None  # wall clock minus the controller's (Ray)
    clock_uncertainty_s: float | None = None  # half the round trip that measured it


class _Batcher:
    """Collects records and hands them on in batches (fewer messages at high rates)."""

    def __init__(self, put: Callable[[list[RequestRecord]], None], shift_s: float) -> None:
        self.put, self.shift_s = put, shift_s
        self.batch: list[RequestRecord] = []
        self.last = perf_counter()

    def add(self, record: RequestRecord) -> None:
        if self.shift_s:  # to the controller's clock
            for name in ("t_send_s", "t_first_s", "t_last_s", "t_end_s"):
                value = getattr(record, name)
                if value is not None:
                    setattr(record, name, value + self.shift_s)
        self.batch.append(record)
        if len(self.batch) >= BATCH_RECORDS or perf_counter() - self.last > BATCH_S:
            self.flush()

    def flush(self) -> None:
        if self.batch:
            self.put(self.batch)
            self.batch = []
        self.last = perf_counter()


class Sender:
    """A worker's side of a step: its own client and prompts, made before the start."""

    def __init__(self, spec: SenderSpec, share: Share) -> None:
        self.spec, self.share = spec, share
        self._stack = contextlib.AsyncExitStack()
        self._client: EngineClient | None = None
        self._prompts: Any = None
        self.cpu_s: float | None = None  # CPU this process spent sending the share

    async def prepare(self) -> None:
        """Open the client and make every prompt of the share."""
        from pdplan.bench.prompts import PromptSource

        self._client = await self._stack.enter_async_context(
            EngineClient(self.spec.base_url, timeouts=self.spec.timeouts)
        )
        self._prompts = PromptSource(self.spec.prompt_mode, random.Random(secrets.randbits(64)))
        isls = [isl for isl, _ in self.share.lengths]
        await self._prompts.prepare(isls, self._client, self.spec.model)

    async def send(
        self, start_s: float, shift_s: float, put: Callable[[list[RequestRecord]], None]
    ) -> None:
        """The share at its times from ``start_s`` (this process's ``perf_counter``); records
        shifted by ``shift_s`` to the controller's clock. Every record, finished or cut short
        by a cancellation, reaches ``put``; the client is closed at the end."""

        spec, share, client, prompts = self.spec, self.share, self._client, self._prompts
        assert client is not None
        out = _Batcher(put, shift_s)
        cpu0 = time.process_time()

        async def send(k: int) -> RequestRecord:
            isl, osl = share.lengths[k]
            extra = {"index": share.indices[k], "worker": share.worker}
            record = new_record(share.step, isl, osl, spec.run_id, extra)
            try:
                prompt = await prompts.make(isl, client, spec.model)
                await send_request(client, spec.model, spec.prompt_mode, record, prompt)
            except asyncio.CancelledError:
                out.add(record)  # cut short: kept as measured
                raise
            return record

        try:
            await run_open_loop(send, share.times_s, out.add, start_s=start_s)
        finally:
            out.flush()
            await self._stack.aclose()
            self.cpu_s = time.process_time() - cpu0


class Pool:
    """Sends one step's schedule through several workers; :meth:`run` returns every record
    (in the order they ended) and calls ``on_record`` with each as it arrives."""

    workers: int
    info: list[WorkerInfo]
    #: CPU seconds each worker spent sending the last step (None: not reported)
    last_cpu_s: dict[int, float | None]

    async def run(
        self,
        spec: SenderSpec,
        step: str,
        times_s: Sequence[float],
        lengths: Sequence[tuple[int, int]],
        on_record: Callable[[RequestRecord], None],
    ) -> list[RequestRecord]:
        raise NotImplementedError

    def shares(
        self, step: str, times_s: Sequence[float], lengths: Sequence[tuple[int, int]]
    ) -> list[Share]:
        return [
            Share(
                worker=w,
                step=step,
                indices=tuple(idx),
                times_s=tuple(times_s[i] for i in idx),
                lengths=tuple(lengths[i] for i in idx),
            )
            for w, idx in enumerate(deal(len(times_s), self.workers))
            if idx
        ]


# --- worker processes on this machine -------------------------------------------------------


def _process_main(spec: SenderSpec, share: Share, out: Any, go: Any) -> None:
    """A worker process: make the prompts, say so, wait for the start time, send."""

    async def main() -> None:
        sender = Sender(spec, share)
        await sender.prepare()
        out.put(("ready", share.worker, None))
        while True:  # polled, not a blocking thread: Ctrl-C must be able to end the wait
            try:
                start = go.get_nowait()
                break
            except queue.Empty:
                await asyncio.sleep(0.01)
        try:
            await sender.send(float(start), 0.0, lambda batch: out.put(("records", 0, batch)))
        finally:
            out.put(("cpu", share.worker, sender.cpu_s))

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass  # Ctrl-C reaches the whole process group: the controller reports it
    except BaseException as exc:  # anything else is the controller's to report, in one line
        out.put(("error", share.worker, f"{type(exc).__name__}: {exc}"))
    finally:
        out.put(("done", share.worker, None))


class LocalPool(Pool):
    """``workers`` processes on this machine (spawned fresh: no state shared with the
    controller's event loop)."""

    def __init__(self, workers: int) -> None:
        if not 1 <= workers <= 256:
            raise ConfigError(f"--workers: {workers} is not within 1..256")
        self.workers = workers
        self.last_cpu_s = {}
        host = socket.gethostname()
        self.info = [WorkerInfo(worker=w, host=host) for w in range(workers)]

    async def run(
        self,
        spec: SenderSpec,
        step: str,
        times_s: Sequence[float],
        lengths: Sequence[tuple[int, int]],
        on_record: Callable[[RequestRecord], None],
    ) -> list[RequestRecord]:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        out = ctx.Queue()
        shares = self.shares(step, times_s, lengths)
        gos = [ctx.Queue() for _ in shares]
        procs = [
            ctx.Process(target=_process_main, args=(spec, s, out, go), daemon=True)
            for s, go in zip(shares, gos, strict=True)
        ]
        for p in procs:
            p.start()
        collector = Collector(len(shares), on_record)
        try:
            await collector.until(lambda: collector.ready == len(shares), READY_TIMEOUT_S, out)
            start = perf_counter() + START_MARGIN_S
            for go in gos:
                go.put(start)
            await collector.until(lambda: collector.done == len(shares), math.inf, out)
        finally:
            # cut short (Ctrl-C, an error): the workers stop as a Ctrl-C stops one process,
            # sending what they measured, which is collected for a few seconds
            if collector.done < len(shares):
                for p in procs:
                    if p.is_alive() and p.pid is not None:
                        with contextlib.suppress(OSError):
                            os.kill(p.pid, signal.SIGINT)
                with contextlib.suppress(BaseException):
                    await collector.until(lambda: collector.done == len(shares), 5.0, out)
            for p in procs:
                if p.is_alive():
                    p.terminate()
                p.join(timeout=5)
        self.last_cpu_s = collector.cpu_s
        collector.raise_errors()
        return collector.records


class Collector:
    """Reads the workers' messages (readiness, record batches, errors, ends)."""

    def __init__(self, workers: int, on_record: Callable[[RequestRecord], None]) -> None:
        self.workers, self.on_record = workers, on_record
        self.ready = self.done = 0
        self.records: list[RequestRecord] = []
        self.errors: list[str] = []
        self.cpu_s: dict[int, float | None] = {}

    def take(self, message: tuple[str, int, Any]) -> None:
        kind, worker, payload = message
        if kind == "ready":
            self.ready += 1
        elif kind == "records":
            for record in payload:
                self.records.append(record)
                self.on_record(record)
        elif kind == "cpu":
            self.cpu_s[worker] = payload
        elif kind == "error":
            self.errors.append(f"worker {worker}: {payload}")
        elif kind == "done":
            self.done += 1

    async def until(self, condition: Callable[[], bool], timeout_s: float, source: Any) -> None:
        deadline = perf_counter() + timeout_s
        while not condition():
            if self.errors and self.ready + self.done < self.workers:
                break  # a worker failed before the start: stop waiting for it
            if perf_counter() > deadline:
                raise BenchmarkError(
                    f"workers: {self.ready} of {self.workers} ready after {timeout_s:.0f} s"
                )
            try:
                message = await asyncio.to_thread(source.get, True, 0.2)
            except queue.Empty:
                continue
            self.take(message)
            while True:  # drain what else is there without a thread hop each
                try:
                    self.take(source.get_nowait())
                except queue.Empty:
                    break

    def raise_errors(self) -> None:
        if self.errors:
            raise BenchmarkError(
                f"{len(self.errors)} worker(s) failed ({self.errors[0]}); the records they "
                "sent are kept"
            )
