"""Load-generator workers as Ray actors (``pdplan loadtest --ray``): the workers of
:mod:`pdplan.bench.workers`, placed on a Ray cluster's nodes. Ray is the existing engine for
this (no home-made RPC); it is an optional extra (``pip install 'pdplan[ray]'``, on every node
too) and is imported only here.

A worker on another machine has its own clocks: the controller measures each actor's
wall-clock offset by round trips before the first step (half the shortest round trip is its
uncertainty), the common start is read on each node's clock, and each actor converts its
record times to the controller's ``perf_counter`` before they come back, so that send lag is
measured against the one schedule. Records wait in each actor's outbox until the controller
drains it: a call the actor's event loop answers between sends, so nothing blocks the loop
that keeps the schedule.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Sequence
from time import perf_counter
from typing import Any

from pdplan.bench.records import RequestRecord
from pdplan.bench.workers import (
    START_MARGIN_S,
    Collector,
    Pool,
    Sender,
    SenderSpec,
    Share,
    WorkerInfo,
)
from pdplan.errors import ConfigError

__all__ = ["RayPool"]


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError(
            "--ray needs Ray: pip install 'pdplan[ray]' (on every node of the cluster too)"
        ) from None
    return ray


class _RayWorker:
    """A Ray actor: one worker with its own event loop, on whichever node Ray placed it.
    Its records wait in an outbox that the controller drains (a call the actor's event loop
    answers between sends: nothing blocks the loop that keeps the schedule)."""

    def __init__(self) -> None:
        self.sender: Sender | None = None
        self.outbox: list[RequestRecord] = []

    def clock(self) -> tuple[float, float, str]:
        return time.time(), perf_counter(), socket.gethostname()

    async def prepare(self, spec: SenderSpec, share: Share) -> None:
        self.sender = Sender(spec, share)
        self.outbox.clear()
        await self.sender.prepare()

    async def drain(self) -> list[RequestRecord]:
        out = list(self.outbox)
        self.outbox.clear()  # the same list: the sender appends to it
        return out

    async def send(
        self, start_wall_s: float, start_controller_s: float, offset_s: float
    ) -> tuple[str | None, float | None]:
        assert self.sender is not None
        # the common start, read on this node's clocks
        local = perf_counter() + (start_wall_s + offset_s - time.time())
        try:
            await self.sender.send(local, start_controller_s - local, self.outbox.extend)
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}", self.sender.cpu_s
        return None, self.sender.cpu_s


class RayPool(Pool):
    """``workers`` actors on the Ray cluster at ``address`` (spread over its nodes)."""

    def __init__(self, address: str, workers: int) -> None:
        if not 1 <= workers <= 4096:
            raise ConfigError(f"--workers: {workers} is not within 1..4096")
        ray = _ray()
        if not ray.is_initialized():
            ray.init(address=address, log_to_driver=False, ignore_reinit_error=True)
        self.workers = workers
        self.last_cpu_s = {}
        remote = ray.remote(num_cpus=1, scheduling_strategy="SPREAD")(_RayWorker)
        self.actors = [remote.remote() for _ in range(workers)]
        self.info = [self._measure_clock(w, a) for w, a in enumerate(self.actors)]

    def _measure_clock(self, worker: int, actor: Any) -> WorkerInfo:
        ray = _ray()
        ray.get(actor.clock.remote())  # the actor is up (its first call pays the start)
        best: tuple[float, float, str] | None = None
        for _ in range(5):  # the shortest round trip bounds the offset best
            t0 = time.time()
            wall, _, host = ray.get(actor.clock.remote())
            t1 = time.time()
            if best is None or t1 - t0 < 2 * best[1]:
                best = (wall - (t0 + t1) / 2, (t1 - t0) / 2, host)
        assert best is not None
        return WorkerInfo(
            worker=worker, host=best[2], clock_offset_s=best[0], clock_uncertainty_s=best[1]
        )

    async def run(
        self,
        spec: SenderSpec,
        step: str,
        times_s: Sequence[float],
        lengths: Sequence[tuple[int, int]],
        on_record: Callable[[RequestRecord], None],
    ) -> list[RequestRecord]:
        ray = _ray()
        shares = self.shares(step, times_s, lengths)
        actors = [self.actors[s.worker] for s in shares]
        ray.get([a.prepare.remote(spec, s) for a, s in zip(actors, shares, strict=True)])
        start_wall = time.time() + START_MARGIN_S + 0.5  # a remote call's way to every actor
        start_controller = perf_counter() + (start_wall - time.time())
        runs = [
            a.send.remote(start_wall, start_controller, self.info[s.worker].clock_offset_s)
            for a, s in zip(actors, shares, strict=True)
        ]
        collector = Collector(len(shares), on_record)

        def drain() -> None:
            for batch in ray.get([a.drain.remote() for a in actors]):
                collector.take(("records", 0, batch))

        pending = list(runs)
        try:
            while pending:
                _, pending = ray.wait(pending, num_returns=len(pending), timeout=0.2)
                drain()
            for share, (error, cpu_s) in zip(shares, ray.get(runs), strict=True):
                collector.cpu_s[share.worker] = cpu_s
                if error:
                    collector.errors.append(f"worker {share.worker}: {error}")
        finally:
            for ref in pending:
                ray.cancel(ref)  # cut short: the actors cancel their sends, keeping the records
            with contextlib.suppress(Exception):
                if pending:
                    ray.wait(pending, num_returns=len(pending), timeout=5.0)
                drain()
        self.last_cpu_s = collector.cpu_s
        collector.raise_errors()
        return collector.records
