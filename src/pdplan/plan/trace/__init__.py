"""Plan for a trace: the smallest allocation whose replay of the trace meets the SLOs.

Two answers, and the gap between them:

- **Analytic** (burst-aware): the trace followed request by request. Prefill under random
  routing: the transient Lindley recursion of one server's wait distribution over the trace's
  own arrivals and prompt lengths (:mod:`pdplan.queueing.transient`). Decode under
  least-loaded routing: the requests in decode split evenly over the instances, followed as a
  fluid over the trace's arrivals and output lengths (:mod:`pdplan.queueing.decode_fluid`).
  Both are what the simulator computes, averaged over its random draws. With pooled prefill,
  random decode routing or the paper's model: the pointwise-stationary approximation. The
  replay is cut into windows (60 s, or the SLO window when shorter); each window is a
  stationary queue at its own rate, with the burstiness that remains inside windows (the
  inter-arrival SCV of gaps scaled by their window's rate; for decode, the index of dispersion
  of counts at the time scale of a request's decode). Prefill: GI/G/1 per DP group (Kingman)
  or GI/G/c pooled (Allen-Cunneen), the planning model's service variability, the wait within
  a window bounded by what a queue at the edge of stability builds in that time (a reflected
  Brownian motion's mean), and a fluid backlog that an overloaded window leaves to the next.
  Decode: the planning model's batch rule per window (held batch, or the fluctuating batch on
  one instance or under random routing), with a fluid backlog of requests waiting for a slot.
  The windows also give the first guess of the transient search. The SLO statistic is taken
  over all requests (or per SLO window).
- **Simulation-checked** (the recommendation): starting from the analytic answer, replay the
  trace through the simulator (:mod:`pdplan.sim`) with the same routing and service
  variability, and search for the smallest prefill count meeting the TTFT objective, then the
  smallest decode count meeting the TPOT objective (TTFT does not depend on decode in the
  simulator; decode sees the prefill's output). Every allocation tried is kept, so that a user
  can re-run any of them with ``pdplan simulate --trace`` and get the same numbers.

Pure (planner + simulator); ``on_probe`` lets a caller show progress.

Modules: :mod:`~pdplan.plan.trace.windows` (the pointwise-stationary windows),
:mod:`~pdplan.plan.trace.analytic` (the analytic answer), :mod:`~pdplan.plan.trace.replay`
(one allocation's replay), :mod:`~pdplan.plan.trace.search` (the smallest count) and
:mod:`~pdplan.plan.trace.plan` (the answer of ``size --trace``).
"""

from pdplan.plan.trace.analytic import PSA_WINDOW_S, AnalyticAllocation, analytic_allocation
from pdplan.plan.trace.plan import TracePlan, plan_trace
from pdplan.plan.trace.replay import ReplayResult, WindowVerdict, replay

__all__ = [
    "PSA_WINDOW_S",
    "AnalyticAllocation",
    "ReplayResult",
    "TracePlan",
    "WindowVerdict",
    "analytic_allocation",
    "plan_trace",
    "replay",
]
