"""The burst-aware analytic answer for a trace (see :mod:`pdplan.plan.trace`).

Prefill under random routing (the default): the transient Lindley recursion of one server's
wait over the trace's own arrivals and lengths (:mod:`pdplan.queueing.transient`). Decode
under least-loaded routing (the default): the balanced pool as a fluid over the same trace
(:mod:`pdplan.queueing.decode_fluid`). Otherwise (pooled prefill, random decode routing, the
paper's model), the pointwise-stationary approximation: per window a GI/G/c (or M/M/1) sojourn
with a fluid backlog, and the planning model's batch rule; it is also the first guess of the
searches above. The SLO statistic is taken over all requests (or per SLO window). Pure."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pdplan.capacity.pool import smallest
from pdplan.errors import InfeasibleSLOError
from pdplan.plan.trace.inputs import AnalyticInputs, analytic_inputs
from pdplan.plan.trace.stationary import psa_stat, windows_decode_stat
from pdplan.quantiles import STAT_QUANTILE, Distribution
from pdplan.queueing.decode_fluid import balanced_decode_tpots_s
from pdplan.queueing.transient import random_routing_sojourns
from pdplan.schema.plan import DecodeRouting, Model, PrefillRouting
from pdplan.schema.profile import Profile
from pdplan.schema.workload import SLO, Workload
from pdplan.sim.config import MAX_SIM_INSTANCES

__all__ = ["PSA_WINDOW_S", "AnalyticAllocation", "analytic_allocation"]

#: Longest pointwise-stationary window, seconds of the replay (shorter for short replays).
PSA_WINDOW_S = 60.0


class AnalyticAllocation(BaseModel):
    """The burst-aware analytic answer and what it predicts."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    allocation: str
    prefill_instances: int
    decode_instances: int
    gpus: int | None
    predicted_ttft_s: float = Field(description="the SLO's TTFT statistic over the replay")
    predicted_tpot_s: float | None = Field(
        description="the SLO's TPOT statistic over the replay (None: no request has two tokens)"
    )
    prefill_method: Literal["transient", "windows"] = Field(
        description="transient: each server's wait distribution followed over the trace's own "
        "arrivals (random routing); windows: a stationary GI/G/c queue per window (pooled "
        "routing, or the paper's model)"
    )
    decode_method: Literal["fluid", "windows"] = Field(
        description="fluid: the balanced pool followed over the trace's own arrivals "
        "(least-loaded routing); windows: the planning model's batch rule per window"
    )
    window_s: float = Field(description="pointwise-stationary window, seconds")
    local_arrival_scv: float = Field(description="inter-arrival SCV inside windows")
    decode_dispersion: float = Field(description="index of dispersion at the decode time scale")


def _groups_ok(values: dict[int, float], limit: float) -> bool:
    return all(v <= limit * (1 + 1e-9) for v in values.values())


#: The transient recursion's grid: this share of the TTFT objective (a quantile is read to
#: half a step).
_GRID_SHARE = 1 / 128
#: A server's backlog beyond this many TTFT objectives is held there (a lower bound); a
#: count whose replay holds more than :data:`_HELD_MAX` of a request's probability there fails.
_HOLD_AT = 20.0
_HELD_MAX = 1e-3


def _transient_stat(a: AnalyticInputs, m: int, stat: str, limit_s: float) -> dict[int, float]:
    """Per SLO window: the TTFT statistic under random routing to m instances, exact up to
    the grid (:mod:`pdplan.queueing.transient`)."""
    groups = max(a.slo_group) + 1
    got = random_routing_sojourns(
        a.times_s,
        a.service_s,
        m * a.dp,
        a.noise,
        limit_s * _GRID_SHARE,
        group_of=a.slo_group if groups > 1 else None,
        groups=groups,
        max_wait_s=limit_s * _HOLD_AT,
        distribution=stat != "mean",
    )
    if stat == "mean":
        values = got.mean_s(a.overhead_s)
    else:
        values = got.quantile_s(STAT_QUANTILE[stat], a.overhead_s)
    if got.held > _HELD_MAX:  # a lower bound only: the backlog ran past the grid
        values = [math.inf for _ in values]
    return {g: v for g, v in enumerate(values) if got.count[g]}


def _transient(pooled: bool, a: AnalyticInputs) -> bool:
    """Random routing under a burst-aware model: the transient recursion applies."""
    return not pooled and a.kind != "mm1"


def _prefill_stat(
    a: AnalyticInputs, m: int, stat: str, pooled: bool, limit_s: float
) -> dict[int, float]:
    """Per SLO window: the TTFT statistic with m prefill instances."""
    if _transient(pooled, a):
        return _transient_stat(a, m, stat, limit_s)
    return psa_stat(a, m, stat, pooled)


def _fluid_stat(a: AnalyticInputs, n: int, stat: str) -> dict[int, float]:
    """Per SLO window: the TPOT statistic of the balanced decode pool followed over the trace
    (:mod:`pdplan.queueing.decode_fluid`); decode starts when the prompt's own prefill ends."""
    tpots = balanced_decode_tpots_s(a.decode_start_s, a.osl_tokens, n, a.tpot_table)
    by_group: dict[int, list[float | None]] = {}
    for g, t in zip(a.slo_group, tpots, strict=True):
        by_group.setdefault(g, []).append(t)
    out = {}
    for g, values in by_group.items():
        dist = Distribution.of(values)
        if dist is not None:
            out[g] = dist.stat(stat)  # type: ignore[arg-type]
    return out


def _fluid(random: bool, a: AnalyticInputs) -> bool:
    """Least-loaded decode under a burst-aware model: the balanced fluid applies."""
    return not random and a.fluctuate


def _decode_stat(a: AnalyticInputs, n: int, stat: str, random: bool) -> dict[int, float]:
    """Per SLO window: the TPOT statistic with n decode instances (none when no request has
    a second token)."""
    if max(a.osl_tokens) < 2:
        return {}
    if _fluid(random, a):
        return _fluid_stat(a, n, stat)
    return windows_decode_stat(a, n, stat, random)


def _smallest_count(
    stat_of: Callable[[int], dict[int, float]],
    limit_s: float,
    guess_of: Callable[[int], dict[int, float]] | None,
) -> tuple[int | None, dict[int, dict[int, float]]]:
    """The smallest count whose statistic (per SLO window) meets ``limit_s``, searched from
    the answer of the cheaper ``guess_of`` when given; and every statistic computed."""
    start = 1
    if guess_of is not None:
        start = smallest(lambda k: _groups_ok(guess_of(k), limit_s), 1, MAX_SIM_INSTANCES) or 1
    seen: dict[int, dict[int, float]] = {}

    def ok(k: int) -> bool:
        if k not in seen:
            seen[k] = stat_of(k)
        return _groups_ok(seen[k], limit_s)

    return smallest(ok, start, MAX_SIM_INSTANCES), seen


def analytic_allocation(
    profile: Profile,
    workload: Workload,
    slo: SLO,
    *,
    model: Model = "auto",
    prefill_routing: PrefillRouting = "random",
    decode_routing: DecodeRouting = "least_loaded",
    window_s: float = PSA_WINDOW_S,
    slo_window_s: float | None = None,
    gpus: Callable[[int, int], int | None] = lambda m, n: None,
) -> AnalyticAllocation:
    """The burst-aware analytic answer for a trace workload (see the module docstring).

    :raises InfeasibleSLOError: when no count up to the simulator's limit meets an objective

    >>> import random
    >>> from pdplan import SLO, Workload, default_profile
    >>> from pdplan.schema.trace import Trace
    >>> rng = random.Random(1)
    >>> times = sorted(rng.uniform(0, 600) for _ in range(600))
    >>> w = Workload.from_trace(Trace(tuple(times), (6144,) * 600, (512,) * 600), time_scale=10)
    >>> a = analytic_allocation(default_profile(), w, SLO(ttft_s=2, tpot_s=0.02), model="paper")
    >>> a.allocation, round(a.predicted_ttft_s, 3)
    ('3P4D', 0.762)
    >>> b = analytic_allocation(default_profile(), w, SLO(ttft_s=2, tpot_s=0.02))  # auto
    >>> b.allocation, b.prefill_method, b.decode_method, round(b.predicted_ttft_s, 3)
    ('3P3D', 'transient', 'fluid', 0.819)
    """
    a = analytic_inputs(profile, workload, slo, model, window_s, slo_window_s)
    pooled, random = prefill_routing == "pooled", decode_routing == "random"
    m, ttft = _smallest_count(
        lambda k: _prefill_stat(a, k, slo.ttft_stat, pooled, slo.ttft_s),
        slo.ttft_s,
        (lambda k: psa_stat(a, k, slo.ttft_stat, pooled)) if _transient(pooled, a) else None,
    )
    n, tpot = _smallest_count(
        lambda k: _decode_stat(a, k, slo.tpot_stat, random),
        slo.tpot_s,
        (lambda k: windows_decode_stat(a, k, slo.tpot_stat, random)) if _fluid(random, a) else None,
    )
    if m is None or n is None:
        phase = "prefill" if m is None else "decode"
        raise InfeasibleSLOError(
            f"the analytic model finds no {phase} count up to {MAX_SIM_INSTANCES} that meets "
            f"the {'TTFT' if m is None else 'TPOT'} SLO on this trace",
            field="ttft" if m is None else "tpot",
            achievable=0.0,
        )
    return AnalyticAllocation(
        allocation=f"{m}P{n}D",
        prefill_instances=m,
        decode_instances=n,
        gpus=gpus(m, n),
        predicted_ttft_s=max(ttft[m].values()),
        predicted_tpot_s=max(tpot[n].values(), default=None),
        prefill_method="transient" if _transient(pooled, a) else "windows",
        decode_method="fluid" if _fluid(random, a) else "windows",
        window_s=a.window_s,
        local_arrival_scv=a.arrival_scv,
        decode_dispersion=a.dispersion,
    )
