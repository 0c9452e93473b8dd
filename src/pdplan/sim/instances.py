"""The simulated instances: a pool of prefill servers and a pool of decode instances, each
holding its state as parallel lists (struct of arrays: fast in CPython) and reacting to the
events of :mod:`pdplan.sim.cluster`. Pure.

Prefill: one FCFS server per attention-DP group of each instance, a queue each (or one
shared queue, ``pooled``); a server takes the queue's head, and under a chunked-prefill
budget as many more queued requests as fit, and is busy for the sum of their service times.

Either pool may scale (:mod:`pdplan.sim.elastic`): its arrays hold every instance it will ever
have, ``active`` lists those taking new requests (the routing picks among them, in order), and
an instance taken out of ``active`` drains: it finishes what it holds and then calls
``on_idle``.

Decode: continuous batching. An instance advances every active request by one token per
``TPOT(b)``, ``b`` its current batch; ``b`` changes only at admissions and completions, so an
instance keeps a virtual token clock (tokens generated per active request since its start)
and schedules only its next completion, superseding it (a version number) whenever the batch
changes. A request that finds the batch or the KV cache full waits at its instance.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Callable, Sequence

from pdplan.sim.kernel import EventQueue
from pdplan.sim.routing import decode_policy, prefill_policy

__all__ = ["DECODE_DONE", "PREFILL_DONE", "DecodePool", "PrefillPool"]

PREFILL_DONE, DECODE_DONE = 1, 3
_EPS_TOKENS = 1e-7


class PrefillPool:
    """Prefill servers (one per attention-DP group) and their queues."""

    __slots__ = (
        "active", "batch_of", "budget", "busy", "busy_time", "events", "isls", "on_idle",
        "outstanding", "pick", "queues", "service_s", "serving", "start_s",
    )  # fmt: skip

    def __init__(
        self,
        servers: int,
        routing: str,
        uniforms: Sequence[float],
        budget_tokens: int | None,
        isls: Sequence[int],
        service_s: Sequence[float],
        events: EventQueue,
    ) -> None:
        self.outstanding = [0] * servers  # queued + in-service tokens (least_outstanding)
        #: the servers taking new requests, in the order the routing sees them
        self.active = list(range(servers))
        self.serving = [True] * servers
        #: called with (server, now) when a server out of ``active`` has nothing left
        self.on_idle: Callable[[int, float], None] | None = None
        # None: one shared queue (pooled)
        self.pick = prefill_policy(routing, self.active, uniforms, self.outstanding)
        self.queues: list[deque[int]] = [
            deque() for _ in range(1 if self.pick is None else servers)
        ]
        self.busy = [False] * servers
        self.batch_of: list[list[int]] = [[] for _ in range(servers)]
        self.busy_time = [0.0] * servers
        self.start_s: list[float] = [0.0] * len(isls)  # when each request's prefill began
        self.budget = budget_tokens
        self.isls, self.service_s, self.events = isls, service_s, events

    def arrive(self, rid: int, now: float) -> None:
        """A request joins its server's queue (or the shared one) and starts if it can."""
        if self.pick is None:
            self.queues[0].append(rid)
            busy = self.busy
            for i in self.active:
                if not busy[i]:
                    self._start(i, now)
                    break
            return
        i = self.pick(rid)
        self.queues[i].append(rid)
        self.outstanding[i] += self.isls[rid]
        if not self.busy[i]:
            self._start(i, now)

    def _start(self, i: int, now: float) -> None:
        q = self.queues[0 if self.pick is None else i]
        isls, service_s, start_s = self.isls, self.service_s, self.start_s
        rid = q.popleft()
        batch, tokens, work = [rid], isls[rid], service_s[rid]
        if self.budget is not None:
            while q and tokens + isls[q[0]] <= self.budget:
                nxt = q.popleft()
                batch.append(nxt)
                tokens += isls[nxt]
                work += service_s[nxt]
        for r in batch:
            start_s[r] = now
        self.batch_of[i] = batch
        self.busy[i] = True
        self.busy_time[i] += work
        events = self.events
        heapq.heappush(events.heap, (now + work, next(events.seq), PREFILL_DONE, i, 0))

    def finish(self, i: int) -> list[int]:
        """Server ``i`` completes its batch (returned); :meth:`resume` then takes the next."""
        batch = self.batch_of[i]
        outstanding, isls = self.outstanding, self.isls
        for rid in batch:
            outstanding[i] -= isls[rid]
        self.busy[i] = False
        return batch

    def resume(self, i: int, now: float) -> None:
        """Server ``i``, idle, takes the next queued requests if there are any (a draining
        server its own queue's, not the shared one's); a drained one says it is idle."""
        pooled = self.pick is None
        if self.queues[0 if pooled else i] and (self.serving[i] or not pooled):
            self._start(i, now)
        elif not self.serving[i] and self.on_idle is not None:
            self.on_idle(i, now)

    def grow(self, count: int) -> int:
        """``count`` more servers, not yet serving; returns the first one's index."""
        first = len(self.busy)
        self.outstanding += [0] * count
        self.busy += [False] * count
        self.batch_of += [[] for _ in range(count)]
        self.busy_time += [0.0] * count
        self.serving += [False] * count
        if self.pick is not None:
            self.queues += [deque() for _ in range(count)]
        return first

    def add(self, i: int, now: float) -> None:
        """Server ``i`` starts taking requests (pooled: the shared queue's head at once)."""
        self.serving[i] = True
        self.active.append(i)
        if self.pick is None and self.queues[0] and not self.busy[i]:
            self._start(i, now)

    def drain(self, i: int, now: float) -> None:
        """Server ``i`` takes no new request; it says when it has finished what it holds."""
        self.serving[i] = False
        self.active.remove(i)
        empty = not self.busy[i] and (self.pick is None or not self.queues[i])
        if empty and self.on_idle is not None:
            self.on_idle(i, now)

    def load(self, i: int) -> int:
        """Requests at server ``i``: queued (its own queue) and in service."""
        queued = len(self.queues[i]) if self.pick is not None else 0
        return queued + (len(self.batch_of[i]) if self.busy[i] else 0)


class DecodePool:
    """Decode instances with continuous batching, a virtual token clock each."""

    __slots__ = (
        "accepting", "active", "done_s", "events", "finishes", "isls", "kv_cap", "kv_used",
        "last_t", "loads", "max_batch", "occupancy", "on_idle", "osls", "place", "serving",
        "tpot", "vclock", "version", "waiting",
    )  # fmt: skip

    def __init__(
        self,
        instances: int,
        routing: str,
        uniforms: Sequence[float],
        tpot_by_batch_s: Sequence[float],
        max_batch: int,
        kv_capacity_tokens: int | None,
        isls: Sequence[int],
        osls: Sequence[int],
        done_s: list[float],
        events: EventQueue,
    ) -> None:
        self.active = [0] * instances  # running requests per instance
        self.vclock = [0.0] * instances
        self.last_t = [0.0] * instances
        self.occupancy = [0.0] * instances  # integral of the batch over time
        self.kv_used = [0] * instances
        self.finishes: list[list[tuple[float, int]]] = [[] for _ in range(instances)]
        self.waiting: list[deque[int]] = [deque() for _ in range(instances)]
        self.version = [0] * instances
        self.tpot, self.max_batch, self.kv_cap = tpot_by_batch_s, max_batch, kv_capacity_tokens
        self.isls, self.osls, self.done_s, self.events = isls, osls, done_s, events
        #: the instances taking new requests, in the order the routing sees them
        self.accepting = list(range(instances))
        self.serving = [True] * instances
        #: per instance, its running plus waiting requests while it takes new ones, else inf:
        #: least-loaded placement is ``loads.index(min(loads))``, the first of the least loaded
        #: (``accepting`` is ascending: instances are only ever added at the end)
        self.loads: list[float] = [0] * instances
        #: called with (instance, now) when an instance out of ``accepting`` is empty
        self.on_idle: Callable[[int, float], None] | None = None
        self.place = decode_policy(routing, self.accepting, uniforms, self.loads)

    def join(self, rid: int, now: float) -> None:
        """Request ``rid`` (its first token out) joins the instance its routing picks."""
        j = self.place(rid)
        wq = self.waiting[j]
        if not wq and self._fits(j, rid):
            self._change(j, rid, now)
        else:
            wq.append(rid)
            self.loads[j] += 1

    def complete(self, j: int, now: float) -> None:
        """Instance ``j``'s scheduled completion (the caller checks that its version is the
        instance's: a completion superseded by a change of the batch is dropped)."""
        self._change(j, -1, now)

    def _change(self, j: int, rid: int, now: float) -> None:
        """The batch of instance ``j`` changes at ``now``: request ``rid`` joins it, or (``rid``
        < 0) the requests due finish and waiting ones take their slots. Its token clock runs up
        to now at the old batch, its next completion is scheduled at the new one (one method
        for both: it runs for every event of every request)."""
        active = self.active
        b = active[j]
        if b:
            dt = now - self.last_t[j]
            self.vclock[j] += dt / self.tpot[b]
            self.occupancy[j] += b * dt
        self.last_t[j] = now
        fins = self.finishes[j]
        wq = self.waiting[j]
        if rid >= 0:
            self._admit(j, rid, now)
        else:
            limit = self.vclock[j] + _EPS_TOKENS
            isls, osls, done_s, kv_used = self.isls, self.osls, self.done_s, self.kv_used
            while fins and fins[0][0] <= limit:
                _, done = heapq.heappop(fins)
                done_s[done] = now
                active[j] -= 1
                kv_used[j] -= isls[done] + osls[done]
            while wq and self._fits(j, wq[0]):
                self._admit(j, wq.popleft(), now)
        version = self.version
        version[j] += 1
        if fins:
            dt = (fins[0][0] - self.vclock[j]) * self.tpot[active[j]]
            events = self.events
            heapq.heappush(
                events.heap, (now + max(dt, 0.0), next(events.seq), DECODE_DONE, j, version[j])
            )
        if self.serving[j]:
            self.loads[j] = active[j] + len(wq)
        elif not active[j] and not wq and self.on_idle is not None:
            self.on_idle(j, now)

    def grow(self, count: int) -> int:
        """``count`` more instances, not yet serving; returns the first one's index."""
        first = len(self.active)
        self.active += [0] * count
        self.vclock += [0.0] * count
        self.last_t += [0.0] * count
        self.occupancy += [0.0] * count
        self.kv_used += [0] * count
        self.finishes += [[] for _ in range(count)]
        self.waiting += [deque() for _ in range(count)]
        self.version += [0] * count
        self.serving += [False] * count
        self.loads += [math.inf] * count
        return first

    def add(self, j: int, now: float) -> None:
        """Instance ``j`` starts taking requests."""
        self.serving[j] = True
        self.accepting.append(j)
        self.loads[j] = self.active[j] + len(self.waiting[j])
        self.last_t[j] = now

    def drain(self, j: int, now: float) -> None:
        """Instance ``j`` takes no new request; it says when it has finished what it holds."""
        self.serving[j] = False
        self.accepting.remove(j)
        self.loads[j] = math.inf
        if not self.active[j] and not self.waiting[j] and self.on_idle is not None:
            self.on_idle(j, now)

    def _fits(self, j: int, rid: int) -> bool:
        if self.active[j] >= self.max_batch:
            return False
        need = self.isls[rid] + self.osls[rid]
        return self.kv_cap is None or self.kv_used[j] + need <= self.kv_cap

    def _admit(self, j: int, rid: int, now: float) -> None:
        remaining = self.osls[rid] - 1
        if remaining <= 0:
            self.done_s[rid] = now
            return
        self.active[j] += 1
        self.kv_used[j] += self.isls[rid] + self.osls[rid]
        heapq.heappush(self.finishes[j], (self.vclock[j] + remaining, rid))
