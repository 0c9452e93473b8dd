"""The event loop of an xPyD cluster, at request granularity.

The workload's requests arrive (a replayed trace, or arrivals of its process with lengths
drawn from its distributions), are routed to a prefill server -- one per attention-DP group of
each instance -- (or a shared queue), wait FCFS, and are prefilled alone or in a batch under
the chunked-prefill budget. A prefill takes the service time of its uncached tokens
(``ISL * (1 - prefix hit rate)``, :mod:`pdplan.service_time`), times a gamma factor with the
engine's service variability. The request crosses to decode after the fixed overhead (plus KV
bytes over bandwidth, when given) -- that moment is its first token -- and joins a decode
instance, where it waits if the batch or the KV cache is full. A decode instance advances every
active request by one token per TPOT(b), b its current batch; b changes only at admissions and
completions, so the loop jumps from one of those to the next (a virtual token clock per
instance) instead of stepping iteration by iteration.

Event heap entries are ``(time_s, seq, kind, a, b)``; ``seq`` breaks ties deterministically
(SimPy's ``core.py`` does the same).
"""

from __future__ import annotations

import heapq
import random
from collections import deque
from itertools import count

from pdplan.models.profile import Profile
from pdplan.models.workload import SLO
from pdplan.service_time import prefill_service
from pdplan.sim.config import SimConfig
from pdplan.sim.metrics import Columns, SimResult, summarize_run
from pdplan.sim.service import ServiceModel

__all__ = ["simulate"]

_ARRIVAL, _PREFILL_DONE, _DECODE_JOIN, _DECODE_DONE = 0, 1, 2, 3
_EPS_TOKENS = 1e-7


def simulate(
    profile: Profile, config: SimConfig, slo: SLO | None = None, *, keep_records: bool = False
) -> SimResult:
    """Simulate ``config`` on instances described by ``profile``.

    :param slo: when given, the result reports SLO attainment (share of measured requests
        with TTFT <= ttft_s and TPOT <= tpot_s)
    :param keep_records: keep per-request columns in ``SimResult.records``
    """
    rng = random.Random(config.seed)
    workload = config.workload
    requests = workload.requests(config.requests, rng)
    arrivals = list(requests.arrival_s)
    isls, osls = list(requests.isl_tokens), list(requests.osl_tokens)
    n_req = len(arrivals)
    cl = config.cluster
    lengths = prefill_service(profile.prefill, workload.isl, workload.prefix_hit_rate)
    service = ServiceModel.from_profile(
        profile,
        workload.isl_tokens,
        workload.osl_tokens,
        cl.decode_max_batch,
        cl.kv_capacity_tokens,
        lengths.scv,
    )
    # Random routing draws one uniform per request and phase, used as floor(u * instances):
    # the same seed with one instance more moves few requests (common random numbers, so
    # that a search over instance counts sees a smooth, nearly monotone response).
    route_rng = random.Random(f"{config.seed}/routing")
    route_u = [route_rng.random() for _ in range(n_req)]
    decode_u = [route_rng.random() for _ in range(n_req)]
    keep = 1.0 - workload.prefix_hit_rate
    prefill_cache: dict[int, float] = {}
    ptime = []
    for isl in isls:
        t = prefill_cache.get(isl)
        if t is None:
            t = prefill_cache[isl] = service.prefill_time_s(isl * keep)
        ptime.append(t)
    scv = service.prefill_scv if cl.prefill_service_scv is None else cl.prefill_service_scv
    if scv > 0:  # engine noise on top of the ISL: a gamma factor of mean 1
        noise = random.Random(f"{config.seed}/service")
        ptime = [t * noise.gammavariate(1 / scv, scv) for t in ptime]
    if cl.kv_bytes_per_token is not None and cl.kv_bandwidth_gbps is not None:
        bytes_per_s = cl.kv_bandwidth_gbps * 1e9 / 8
        transfer = [service.overhead_s + i * cl.kv_bytes_per_token / bytes_per_s for i in isls]
    else:
        transfer = [service.overhead_s] * n_req

    # Per-request results.
    first_token = [0.0] * n_req
    done = [0.0] * n_req
    prefill_start = [0.0] * n_req

    # Prefill state: one server per attention-DP group.
    groups = service.prefill_servers_per_instance
    m = cl.prefill_instances * groups
    routing = cl.prefill_routing
    shared = routing == "shared_queue"
    queues: list[deque[int]] = [deque() for _ in range(1 if shared else m)]
    busy = [False] * m
    batch_of: list[list[int]] = [[] for _ in range(m)]
    outstanding = [0] * m  # queued + in-service tokens (least_outstanding routing)
    busy_time = [0.0] * m
    budget = cl.prefill_budget_tokens
    rr = 0

    # Decode state.
    n = cl.decode_instances
    tpot = service.tpot_by_batch_s
    max_b = service.max_batch
    kv_cap = service.kv_capacity_tokens
    active = [0] * n
    vclock = [0.0] * n
    last_t = [0.0] * n
    occupancy = [0.0] * n
    kv_used = [0] * n
    finishes: list[list[tuple[float, int]]] = [[] for _ in range(n)]
    waiting: list[deque[int]] = [deque() for _ in range(n)]
    version = [0] * n
    decode_routing = cl.decode_routing
    drr = 0

    heap: list[tuple[float, int, int, int, int]] = []
    push, pop = heapq.heappush, heapq.heappop
    seq = count()
    if n_req:
        push(heap, (arrivals[0], next(seq), _ARRIVAL, 0, 0))

    def start_batch(i: int, now: float) -> None:
        q = queues[0] if shared else queues[i]
        rid = q.popleft()
        batch = [rid]
        tokens = isls[rid]
        work = ptime[rid]
        if budget is not None:
            while q and tokens + isls[q[0]] <= budget:
                nxt = q.popleft()
                batch.append(nxt)
                tokens += isls[nxt]
                work += ptime[nxt]
        for r in batch:
            prefill_start[r] = now
        batch_of[i] = batch
        busy[i] = True
        busy_time[i] += work
        push(heap, (now + work, next(seq), _PREFILL_DONE, i, 0))

    def advance(j: int, now: float) -> None:
        b = active[j]
        if b:
            dt = now - last_t[j]
            vclock[j] += dt / tpot[b]
            occupancy[j] += b * dt
        last_t[j] = now

    def reschedule(j: int, now: float) -> None:
        version[j] += 1
        fins = finishes[j]
        if fins:
            dt = (fins[0][0] - vclock[j]) * tpot[active[j]]
            push(heap, (now + max(dt, 0.0), next(seq), _DECODE_DONE, j, version[j]))

    def fits(j: int, rid: int) -> bool:
        if active[j] >= max_b:
            return False
        return kv_cap is None or kv_used[j] + isls[rid] + osls[rid] <= kv_cap

    def admit(j: int, rid: int, now: float) -> None:
        remaining = osls[rid] - 1
        if remaining <= 0:
            done[rid] = now
            return
        active[j] += 1
        kv_used[j] += isls[rid] + osls[rid]
        heapq.heappush(finishes[j], (vclock[j] + remaining, rid))

    while heap:
        now, _, kind, a, b = pop(heap)
        if kind == _ARRIVAL:
            rid = a
            if rid + 1 < n_req:
                push(heap, (arrivals[rid + 1], next(seq), _ARRIVAL, rid + 1, 0))
            if shared:
                queues[0].append(rid)
                for i in range(m):
                    if not busy[i]:
                        start_batch(i, now)
                        break
                continue
            if routing == "random":
                i = int(route_u[rid] * m)
            elif routing == "round_robin":
                i = rr
                rr = (rr + 1) % m
            else:
                i = min(range(m), key=outstanding.__getitem__)
            queues[i].append(rid)
            outstanding[i] += isls[rid]
            if not busy[i]:
                start_batch(i, now)
        elif kind == _PREFILL_DONE:
            i = a
            for rid in batch_of[i]:
                outstanding[i] -= isls[rid]
                ready = now + transfer[rid]
                first_token[rid] = ready
                push(heap, (ready, next(seq), _DECODE_JOIN, rid, 0))
            busy[i] = False
            if queues[0 if shared else i]:
                start_batch(i, now)
        elif kind == _DECODE_JOIN:
            rid = a
            if decode_routing == "least_loaded":
                j = min(range(n), key=lambda k: active[k] + len(waiting[k]))
            elif decode_routing == "round_robin":
                j = drr
                drr = (drr + 1) % n
            else:
                j = int(decode_u[rid] * n)
            if not waiting[j] and fits(j, rid):
                advance(j, now)
                admit(j, rid, now)
                reschedule(j, now)
            else:
                waiting[j].append(rid)
        else:  # _DECODE_DONE
            j = a
            if b != version[j]:
                continue  # superseded by a later admission or completion
            advance(j, now)
            fins = finishes[j]
            limit = vclock[j] + _EPS_TOKENS
            while fins and fins[0][0] <= limit:
                _, rid = heapq.heappop(fins)
                done[rid] = now
                active[j] -= 1
                kv_used[j] -= isls[rid] + osls[rid]
            wq = waiting[j]
            while wq and fits(j, wq[0]):
                admit(j, wq.popleft(), now)
            reschedule(j, now)

    end_s = max(done) if n_req else 0.0
    columns = Columns(
        arrival_s=arrivals,
        isl_tokens=isls,
        osl_tokens=osls,
        prefill_start_s=prefill_start,
        first_token_s=first_token,
        done_s=done,
    )
    per_instance_busy = [
        sum(busy_time[i * groups : (i + 1) * groups]) / groups for i in range(cl.prefill_instances)
    ]
    return summarize_run(
        columns,
        warmup_share=config.measured_from,
        slo=slo,
        prefill_busy_s=per_instance_busy,
        decode_occupancy=occupancy,
        end_s=end_s,
        keep_records=keep_records,
        prefill_service_scv=scv,
        offered_rps=None if workload.replays_trace else workload.rate_rps,
    )
