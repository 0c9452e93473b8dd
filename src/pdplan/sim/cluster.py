"""The event loop of an xPyD cluster, at request granularity.

The workload's requests arrive (a replayed trace, or arrivals of its process with lengths
drawn from its distributions), are routed to a prefill server -- one per attention-DP group of
each instance -- (or a shared queue), wait FCFS, and are prefilled alone or in a batch under
the chunked-prefill budget. A prefill takes the service time of its uncached tokens
(``ISL * (1 - prefix hit rate)``, :mod:`pdplan.engine.service_time`), times a gamma factor with the
engine's service variability. The request crosses to decode after the fixed overhead (plus KV
bytes over bandwidth, when given) -- that moment is its first token -- and joins a decode
instance, where it waits if the batch or the KV cache is full. A decode instance advances every
active request by one token per TPOT(b), b its current batch; b changes only at admissions and
completions, so the loop jumps from one of those to the next (a virtual token clock per
instance) instead of stepping iteration by iteration.

The parts, as SimPy separates its ``Environment`` from the model: the event kernel
(:mod:`pdplan.sim.kernel`), the instance pools that react to events
(:mod:`pdplan.sim.instances`), the routing policies (:mod:`pdplan.sim.routing`); this module
draws the requests and their service times and runs the loop.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from heapq import heappush
from typing import Protocol

from pdplan.engine.service_time import prefill_service
from pdplan.schema.profile import Profile
from pdplan.schema.workload import SLO
from pdplan.sim.config import SimConfig
from pdplan.sim.instances import DECODE_DONE, PREFILL_DONE, DecodePool, PrefillPool
from pdplan.sim.kernel import EventQueue
from pdplan.sim.metrics import Columns, SimResult, summarize_run
from pdplan.sim.service import ServiceModel

__all__ = ["CONTROL", "ClusterRun", "Control", "run_cluster", "simulate"]

_ARRIVAL, _DECODE_JOIN = 0, 2  # PREFILL_DONE (1) and DECODE_DONE (3): pdplan.sim.instances
#: The first event kind a :class:`Control` may use (its own kinds are this and above).
CONTROL = 10


def simulate(
    profile: Profile, config: SimConfig, slo: SLO | None = None, *, keep_records: bool = False
) -> SimResult:
    """Simulate ``config`` on instances described by ``profile``.

    :param slo: when given, the result reports SLO attainment (share of measured requests
        with TTFT <= ttft_s and TPOT <= tpot_s)
    :param keep_records: keep per-request columns in ``SimResult.records``

    >>> from pdplan import Workload, default_profile
    >>> from pdplan.sim.config import ClusterConfig
    >>> w = Workload.from_rps(isl_tokens=6144, osl_tokens=512, rate_rps=0.0001)  # no queue
    >>> c = ClusterConfig(prefill_instances=1, decode_instances=1, prefill_service_scv=0.0)
    >>> r = simulate(default_profile(), SimConfig(cluster=c, workload=w, requests=200))
    >>> round(r.ttft_s.mean, 3), round(r.tpot_s.mean * 1e3, 1)  # idle: 0.1 + 6144 / 28309; B=1
    (0.317, 12.8)
    """
    run = run_cluster(profile, config)
    cl, groups, busy = (
        config.cluster,
        run.service.prefill_servers_per_instance,
        run.prefill.busy_time,
    )
    per_instance_busy = [
        sum(busy[i * groups : (i + 1) * groups]) / groups for i in range(cl.prefill_instances)
    ]
    return summarize_run(
        run.columns,
        warmup_share=config.measured_from,
        slo=slo,
        prefill_busy_s=per_instance_busy,
        decode_occupancy=run.decode.occupancy,
        end_s=run.end_s,
        keep_records=keep_records,
        prefill_service_scv=run.scv,
        offered_rps=None if config.workload.replays_trace else config.workload.rate_rps,
    )


@dataclass(frozen=True)
class ClusterRun:
    """One run's per-request columns and the pools as they ended."""

    columns: Columns
    prefill: PrefillPool
    decode: DecodePool
    service: ServiceModel
    scv: float

    @property
    def end_s(self) -> float:
        """The last completion."""
        return max(self.columns.done_s, default=0.0)


class Control(Protocol):
    """What changes a cluster while it runs (:mod:`pdplan.sim.elastic`): it is given the
    pools before the first event, and handles the events of its own kinds (from
    :data:`CONTROL`) that it schedules on the queue."""

    def start(
        self,
        events: EventQueue,
        prefill: PrefillPool,
        decode: DecodePool,
        arrivals: list[float],
        isls: list[int],
        osls: list[int],
    ) -> None: ...
    def handle(self, kind: int, a: int, b: int, now: float) -> None: ...


def run_cluster(profile: Profile, config: SimConfig, control: Control | None = None) -> ClusterRun:
    """Draw the requests and their service times, run the loop (with ``control`` changing the
    cluster as it runs), return the columns.

    :raises ConfigError: when a request cannot fit in a decode instance's KV cache
    """
    workload, cl = config.workload, config.cluster
    kv_capacity = cl.kv_capacity_tokens or profile.decode.kv_capacity_tokens
    workload.check_fits(kv_capacity, "a decode instance")
    requests = workload.requests(config.requests, random.Random(config.seed))
    requests.check_fits(kv_capacity, "a decode instance")  # a rare long draw
    arrivals = list(requests.arrival_s)
    isls, osls = list(requests.isl_tokens), list(requests.osl_tokens)
    lengths = prefill_service(profile.prefill, workload.isl, workload.prefix_hit_rate)
    service = ServiceModel.from_profile(
        profile,
        workload.isl_tokens,
        workload.osl_tokens,
        cl.decode_max_batch,
        cl.kv_capacity_tokens,
        lengths.scv,
    )
    scv = service.prefill_scv if cl.prefill_service_scv is None else cl.prefill_service_scv
    ptime, transfer = _service_times(config, service, isls, workload.prefix_hit_rate, scv)
    events = EventQueue()
    prefill, decode = _pools(config, service, isls, osls, ptime, events)
    if control is not None:
        control.start(events, prefill, decode, arrivals, isls, osls)
    first_token = _run(events, arrivals, transfer, prefill, decode, control)
    prefill.on_idle = decode.on_idle = None  # no cycle back to the control: freed at once
    columns = Columns(
        arrival_s=arrivals,
        isl_tokens=isls,
        osl_tokens=osls,
        prefill_start_s=prefill.start_s,
        first_token_s=first_token,
        done_s=decode.done_s,
    )
    return ClusterRun(columns, prefill, decode, service, scv)


def _pools(
    config: SimConfig,
    service: ServiceModel,
    isls: list[int],
    osls: list[int],
    ptime: list[float],
    events: EventQueue,
) -> tuple[PrefillPool, DecodePool]:
    """The prefill servers (one per DP group) and the decode instances of the cluster."""
    cl = config.cluster
    # Random routing draws one uniform per request and phase, used as floor(u * instances):
    # the same seed with one instance more moves few requests (common random numbers, so
    # that a search over instance counts sees a smooth, nearly monotone response).
    route_rng = random.Random(f"{config.seed}/routing")
    route_u = [route_rng.random() for _ in isls]
    decode_u = [route_rng.random() for _ in isls]
    prefill = PrefillPool(
        cl.prefill_instances * service.prefill_servers_per_instance,
        cl.prefill_routing,
        route_u,
        cl.prefill_budget_tokens,
        isls,
        ptime,
        events,
    )
    decode = DecodePool(
        cl.decode_instances,
        cl.decode_routing,
        decode_u,
        service.tpot_by_batch_s,
        service.max_batch,
        service.kv_capacity_tokens,
        isls,
        osls,
        [0.0] * len(isls),
        events,
    )
    return prefill, decode


def _service_times(
    config: SimConfig, service: ServiceModel, isls: list[int], hit_rate: float, scv: float
) -> tuple[list[float], list[float]]:
    """Each request's prefill time (its uncached tokens, times the engine's gamma noise of
    SCV ``scv``) and its first-token delay after prefill (the overhead, plus KV bytes over a
    bandwidth when given)."""
    keep, ptime = 1.0 - hit_rate, []
    cache: dict[int, float] = {}
    for isl in isls:
        t = cache.get(isl)
        if t is None:
            t = cache[isl] = service.prefill_time_s(isl * keep)
        ptime.append(t)
    if scv > 0:  # engine noise on top of the ISL: a gamma factor of mean 1
        noise = random.Random(f"{config.seed}/service")
        ptime = [t * noise.gammavariate(1 / scv, scv) for t in ptime]
    cl = config.cluster
    if cl.kv_bytes_per_token is not None and cl.kv_bandwidth_gbps is not None:
        bytes_per_s = cl.kv_bandwidth_gbps * 1e9 / 8
        per_token = cl.kv_bytes_per_token / bytes_per_s
        return ptime, [service.overhead_s + i * per_token for i in isls]
    return ptime, [service.overhead_s] * len(isls)


def _run(
    events: EventQueue,
    arrivals: list[float],
    transfer: list[float],
    prefill: PrefillPool,
    decode: DecodePool,
    control: Control | None = None,
) -> list[float]:
    """The event loop; returns each request's first-token time (the pools fill the rest)."""
    n_req = len(arrivals)
    first_token = [0.0] * n_req
    heap, seq, pop = events.heap, events.seq, events.pop  # bound once: the loop runs per event
    arrive, finish, resume = prefill.arrive, prefill.finish, prefill.resume
    join, complete, version = decode.join, decode.complete, decode.version
    # The arrivals are already sorted: the next one waits outside the heap, with the sequence
    # number it would have had there (taken when the previous one arrived), and goes first
    # when it is earlier than the heap's head, as the heap would have ordered it.
    nxt = 0
    next_t, next_seq = (arrivals[0], next(seq)) if n_req else (math.inf, 0)
    while True:
        if heap:
            head = heap[0]
            if head[0] < next_t or (head[0] == next_t and head[1] < next_seq):
                now, _, kind, a, b = pop()
                if kind == PREFILL_DONE:
                    for rid in finish(a):
                        ready = now + transfer[rid]
                        first_token[rid] = ready
                        heappush(heap, (ready, next(seq), _DECODE_JOIN, rid, 0))
                    resume(a, now)
                elif kind == _DECODE_JOIN:
                    join(a, now)
                elif kind == DECODE_DONE:
                    if b == version[a]:  # else superseded: the batch changed since
                        complete(a, now)
                else:
                    assert control is not None
                    control.handle(kind, a, b, now)
                continue
        if nxt == n_req:
            break
        now, a = next_t, nxt
        nxt += 1
        next_t, next_seq = (arrivals[nxt], next(seq)) if nxt < n_req else (math.inf, 0)
        arrive(a, now)
    return first_token
