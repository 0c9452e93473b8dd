"""Aggregated instances: each prefills and decodes on the same accelerators, step by step.

Every instance is a continuous-batching scheduler with chunked prefill, as vLLM's: a step
generates one token for every running request whose prompt is done (each uses one token of
the step's budget), then spends the rest of the budget on prompts: first the running requests
whose prompt is part done, in admission order, then new requests from the FCFS waiting queue,
admitted while the budget lasts, fewer than ``max_seqs`` run and their KV (input + output
tokens) fits. The step lasts what the profile's step-time model says for its content
(:class:`pdplan.schema.aggregated.StepTimeModel`); the step that finishes a prompt also
produces its first token. A request reaches its instance's queue ``overhead_s`` after it
arrives (HTTP, tokenizing). This reproduces the interference disaggregation removes: a long
prompt's chunks lengthen every decode's step (TPOT), and running decodes take budget from
prompts (TTFT).

The loop is step by step (an event per step per instance), unlike the disaggregated
simulator's jump from admission to completion: a step's duration depends on its content.
Pure.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Sequence
from heapq import heappush

from pdplan.errors import InfeasibleSLOError
from pdplan.schema.aggregated import AggregatedProfile
from pdplan.schema.workload import SLO, Workload
from pdplan.sim.config import MAX_SIM_INSTANCES
from pdplan.sim.kernel import EventQueue
from pdplan.sim.metrics import Columns, SimResult, summarize_run
from pdplan.sim.routing import prefill_policy

__all__ = ["AGGREGATED_ROUTING", "AggregatedPool", "simulate_aggregated", "smallest_aggregated"]

#: How requests are spread over aggregated instances (the router in front of them).
AGGREGATED_ROUTING = ("round_robin", "random", "least_outstanding")
_ARRIVAL, _STEP_END, _START = 0, 1, 2


class AggregatedPool:
    """The instances' schedulers, as parallel lists (struct of arrays)."""

    __slots__ = (
        "busy_s", "ctx", "decoding", "done_s", "events", "first_s", "generated", "isl_work",
        "isls", "kv_used", "occupancy", "osls", "outstanding", "pick", "plan", "prefilled",
        "profile", "running", "start_s", "waiting",
    )  # fmt: skip

    def __init__(
        self,
        instances: int,
        routing: str,
        uniforms: Sequence[float],
        profile: AggregatedProfile,
        isls: Sequence[int],
        isl_work: Sequence[int],
        osls: Sequence[int],
        events: EventQueue,
    ) -> None:
        if routing not in AGGREGATED_ROUTING:
            raise ValueError(f"aggregated routing must be one of {AGGREGATED_ROUTING}")
        self.profile = profile
        self.outstanding = [0] * instances  # requests at each instance (least_outstanding)
        pick = prefill_policy(routing, list(range(instances)), uniforms, self.outstanding)
        assert pick is not None
        self.pick = pick
        self.waiting: list[deque[int]] = [deque() for _ in range(instances)]
        self.running: list[list[int]] = [[] for _ in range(instances)]
        self.kv_used = [0] * instances
        # the step in progress per instance: (decoding requests, [(request, prompt chunk)])
        self.plan: list[tuple[list[int], list[tuple[int, int]]] | None] = [None] * instances
        self.busy_s = [0.0] * instances
        self.occupancy = [0.0] * instances  # integral of running requests over time
        n = len(isls)
        self.isls, self.isl_work, self.osls, self.events = isls, isl_work, osls, events
        self.prefilled = [0] * n
        self.generated = [0] * n
        self.decoding = [False] * n
        self.ctx = [0] * n  # context tokens a decode attends to (input + generated)
        self.start_s = [0.0] * n
        self.first_s = [0.0] * n
        self.done_s = [0.0] * n

    def arrive(self, rid: int, now: float) -> None:
        """A request reaches an instance's waiting queue; an idle instance starts a step once
        every arrival of this instant is in (requests that arrive together share it)."""
        j = self.pick(rid)
        self.waiting[j].append(rid)
        self.outstanding[j] += 1
        if self.plan[j] is None:
            self.plan[j] = ([], [])  # starting: no second start for this instant
            self.events.at(now, _START, j)

    def start(self, j: int, now: float) -> None:
        """An idle instance's first step after arrivals."""
        self._step(j, now)

    def _step(self, j: int, now: float) -> None:
        """Plan instance ``j``'s next step and schedule its end (nothing to do: idle)."""
        p = self.profile
        budget = p.max_batched_tokens
        running = self.running[j]
        decodes = [r for r in running if self.decoding[r]][:budget]
        budget -= len(decodes)
        chunks = []
        for r in running:  # prompts already started, in admission order
            if budget <= 0:
                break
            left = self.isl_work[r] - self.prefilled[r]
            if not self.decoding[r] and left > 0:
                take = min(left, budget)
                chunks.append((r, take))
                budget -= take
        waiting, kv_cap = self.waiting[j], p.kv_capacity_tokens
        while budget > 0 and waiting and len(running) < p.max_seqs:
            r = waiting[0]
            need = self.isls[r] + self.osls[r]
            if kv_cap is not None and self.kv_used[j] + need > kv_cap and running:
                break  # waits for KV to free (every request fits alone: checked)
            waiting.popleft()
            running.append(r)
            self.kv_used[j] += need
            self.start_s[r] = now
            take = min(self.isl_work[r], budget)
            chunks.append((r, take))
            budget -= take
        if not decodes and not chunks:
            self.plan[j] = None
            return
        prompt_tokens = sum(c for _, c in chunks)
        context = sum(self.ctx[r] for r in decodes)
        step_s = p.step.step_s(prompt_tokens, len(decodes), context)
        self.plan[j] = (decodes, chunks)
        self.busy_s[j] += step_s
        self.occupancy[j] += len(running) * step_s
        self.events.at(now + step_s, _STEP_END, j)

    def step_end(self, j: int, now: float) -> None:
        """Instance ``j``'s step ended: tokens out, prompts advanced, the next step."""
        plan = self.plan[j]
        assert plan is not None
        decodes, chunks = plan
        finished = []
        for r in decodes:
            self.generated[r] += 1
            self.ctx[r] += 1
            if self.generated[r] >= self.osls[r]:
                finished.append(r)
        for r, take in chunks:
            self.prefilled[r] += take
            if self.prefilled[r] >= self.isl_work[r]:  # the prompt is done: its first token
                self.first_s[r] = now
                self.generated[r] = 1
                self.ctx[r] = self.isls[r] + 1
                self.decoding[r] = True
                if self.osls[r] <= 1:
                    finished.append(r)
        if finished:
            gone = set(finished)
            for r in finished:
                self.done_s[r] = now
                self.kv_used[j] -= self.isls[r] + self.osls[r]
                self.outstanding[j] -= 1
            self.running[j] = [r for r in self.running[j] if r not in gone]
        self._step(j, now)


def simulate_aggregated(
    profile: AggregatedProfile,
    workload: Workload,
    instances: int,
    *,
    routing: str = "round_robin",
    requests: int = 20_000,
    seed: int = 42,
    slo: SLO | None = None,
    keep_records: bool = False,
) -> SimResult:
    """Simulate ``instances`` aggregated instances serving ``workload``.

    >>> from pdplan.schema.aggregated import StepTimeModel
    >>> p = AggregatedProfile(gpus_per_instance=1, max_batched_tokens=512, max_seqs=64,
    ...     step=StepTimeModel(base_ms=5, prefill_token_us=20, decode_seq_us=100))
    >>> w = Workload.from_rps(isl_tokens=1024, osl_tokens=11, rate_rps=0.001)  # no queue
    >>> r = simulate_aggregated(p, w, 1, requests=50)
    >>> round(r.ttft_s.mean * 1e3, 2), round(r.tpot_s.mean * 1e3, 2)  # 2 x 15.24; 5.1
    (30.48, 5.1)
    """
    workload.check_fits(profile.kv_capacity_tokens, "an aggregated instance")
    reqs = workload.requests(requests, random.Random(seed))
    reqs.check_fits(profile.kv_capacity_tokens, "an aggregated instance")
    arrivals = list(reqs.arrival_s)
    isls, osls = list(reqs.isl_tokens), list(reqs.osl_tokens)
    keep = 1.0 - workload.prefix_hit_rate
    isl_work = [max(1, math.ceil(i * keep)) for i in isls]
    route = random.Random(f"{seed}/routing")
    uniforms = [route.random() for _ in isls]
    events = EventQueue()
    pool = AggregatedPool(instances, routing, uniforms, profile, isls, isl_work, osls, events)
    _run(events, [a + profile.overhead_s for a in arrivals], pool)
    columns = Columns(
        arrival_s=arrivals,
        isl_tokens=isls,
        osl_tokens=osls,
        prefill_start_s=pool.start_s,
        first_token_s=pool.first_s,
        done_s=pool.done_s,
    )
    return summarize_run(
        columns,
        warmup_share=workload.warmup_share,
        slo=slo,
        prefill_busy_s=pool.busy_s,
        decode_occupancy=pool.occupancy,
        end_s=max(columns.done_s, default=0.0),
        keep_records=keep_records,
        offered_rps=None if workload.replays_trace else workload.rate_rps,
    )


def smallest_aggregated(
    profile: AggregatedProfile,
    workload: Workload,
    slo: SLO,
    start: int,
    *,
    routing: str = "round_robin",
    requests: int = 10_000,
    seed: int = 42,
) -> tuple[int, SimResult]:
    """The fewest instances whose simulation meets the SLOs (the verdict of
    :func:`pdplan.schema.verdict.judge`), searched from ``start`` (the analytic answer) down while
    they meet and up until they do; the same seed for every count.

    >>> from pdplan.schema.aggregated import StepTimeModel
    >>> p = AggregatedProfile(gpus_per_instance=1, max_batched_tokens=512, max_seqs=64,
    ...     step=StepTimeModel(base_ms=5, prefill_token_us=20, decode_seq_us=100))
    >>> w = Workload.from_rps(isl_tokens=1024, osl_tokens=128, rate_rps=60.0)
    >>> smallest_aggregated(p, w, SLO(ttft_s=0.2, tpot_s=0.02), 4, requests=4000)[0]
    3
    """

    def run(n: int) -> SimResult:
        return simulate_aggregated(
            profile, workload, n, routing=routing, requests=requests, seed=seed, slo=slo
        )

    def meets(r: SimResult) -> bool:
        return r.verdict is not None and r.verdict.meets

    n = max(1, start)
    result = run(n)
    if meets(result):
        while n > 1 and meets(lower := run(n - 1)):
            n, result = n - 1, lower
        return n, result
    while not meets(result):
        if n >= MAX_SIM_INSTANCES:
            raise InfeasibleSLOError(
                f"no count up to {MAX_SIM_INSTANCES} simulated aggregated instances meets the SLOs",
                field="ttft",
                achievable=0.0,
            )
        n += 1
        result = run(n)
    return n, result


def _run(events: EventQueue, at_engine: list[float], pool: AggregatedPool) -> None:
    n = len(at_engine)
    if n:
        events.at(at_engine[0], _ARRIVAL, 0)
    heap, seq, pop = events.heap, events.seq, events.pop
    arrive, step_end, start = pool.arrive, pool.step_end, pool.start
    while heap:
        now, _, kind, a, _ = pop()
        if kind == _ARRIVAL:
            if a + 1 < n:
                heappush(heap, (at_engine[a + 1], next(seq), _ARRIVAL, a + 1, 0))
            arrive(a, now)
        elif kind == _STEP_END:
            step_end(a, now)
        else:
            start(a, now)
