"""Aggregated instances under TTFT and TPOT SLOs: what one instance sustains, and how many
meet a target. Pure. The simulator (:mod:`pdplan.sim.aggregated`) is the referee.

A fluid model of one instance at ``lambda`` req/s (mean ISL ``I``, of which ``I_w`` are not
cached, mean OSL ``O``), with the step-time model ``t = a + b P + c D + d C``:

- per second the instance must prefill ``lambda I_w`` tokens and generate ``lambda (O - 1)``
  decode tokens (the first token comes with the prompt's last chunk), so a mean step carries
  ``P = lambda I_w t`` prompt tokens and ``D = lambda (O - 1) t`` decodes (Little), attending
  to ``C = D (I + O / 2)`` context tokens, and ``t = a / (1 - lambda K)`` with
  ``K = b I_w + (O - 1)(c + d (I + O / 2))``: the instance is stable while ``lambda K < 1``
  and ``P + D`` fits the step's token budget;
- **TPOT**: a decode lives through every step, so its mean TPOT is the mean step ``t``; steps
  with a prompt chunk are longer, and a request's TPOT averages its ``O - 1`` steps
  (percentiles: a normal spread of that average);
- **TTFT**: the overhead, the rest of the step in progress (``t / 2``, when the instance is
  busy), the wait for the prompts ahead (a GI/G/1 queue of prompts: backlogged prompts go
  through at the budget's rate, ``budget - D`` prompt tokens per full step, so a prompt
  occupies ``I_w / (budget - D)`` of one) and the prompt's own chunks,
  ``ceil(I_w / (budget - D))`` steps.
"""

from __future__ import annotations

import math
from statistics import NormalDist

from pydantic import BaseModel, ConfigDict, Field

from pdplan.capacity.pool import MAX_PLAN_INSTANCES, check_count
from pdplan.errors import InfeasibleSLOError
from pdplan.quantiles import STAT_QUANTILE
from pdplan.queueing.sojourn import gamma_quantile, wait_distribution
from pdplan.schema.aggregated import AggregatedProfile
from pdplan.schema.workload import SLO, Workload

__all__ = [
    "AggregatedPlan",
    "AggregatedPoint",
    "aggregated_point",
    "plan_aggregated",
    "stable_rate_rps",
]

_CONFIG = ConfigDict(extra="forbid", frozen=True)


class AggregatedPoint(BaseModel):
    """One instance at one arrival rate, by the fluid model."""

    model_config = _CONFIG
    rate_rps: float
    step_s: float = Field(description="mean step duration (inf: unstable)")
    decodes: float = Field(description="mean decodes per step")
    prompt_tokens: float = Field(description="mean prompt tokens per step")
    ttft_s: float = Field(description="the SLO's TTFT statistic (inf: unstable)")
    tpot_s: float = Field(description="the SLO's TPOT statistic (inf: unstable)")


class AggregatedPlan(BaseModel):
    """The smallest count of aggregated instances meeting the target and the SLOs."""

    model_config = _CONFIG
    instances: int
    gpus: int
    per_instance_rps: float = Field(description="the rate one instance sustains, SLOs met")
    per_instance_tps: float = Field(description="the same in input + output tokens/s")
    binding: str = Field(description="ttft, tpot or capacity (what limits an instance)")
    max_total_tps: float = Field(description="what the allocation sustains, tokens/s")
    point: AggregatedPoint = Field(description="one instance at its share of the target")


def aggregated_point(
    profile: AggregatedProfile, workload: Workload, rate_rps: float, slo: SLO
) -> AggregatedPoint:
    """The fluid model's operating point of one instance at ``rate_rps``.

    >>> from pdplan.schema.aggregated import StepTimeModel
    >>> p = AggregatedProfile(gpus_per_instance=1, max_batched_tokens=512, max_seqs=64,
    ...     step=StepTimeModel(base_ms=5, prefill_token_us=20, decode_seq_us=100))
    >>> w = Workload.from_rps(isl_tokens=1024, osl_tokens=11, rate_rps=1.0)
    >>> pt = aggregated_point(p, w, 1e-9, SLO(ttft_s=1, tpot_s=1))  # zero load
    >>> round(pt.ttft_s * 1e3, 2), round(pt.tpot_s * 1e3, 2)  # 2 chunks of 15.24 ms; 5 + 0.1
    (30.48, 5.1)
    """
    step = profile.step
    isl, osl = workload.isl_tokens, workload.osl_tokens
    work = workload.prefill_isl_tokens
    a = step.base_ms * 1e-3
    b, c, d = step.prefill_token_us * 1e-6, step.decode_seq_us * 1e-6, step.context_token_ns * 1e-9
    per_decode = c + d * (isl + osl / 2)
    k = b * work + (osl - 1) * per_decode
    inf = AggregatedPoint(
        rate_rps=rate_rps, step_s=math.inf, decodes=math.inf, prompt_tokens=math.inf,
        ttft_s=math.inf, tpot_s=math.inf,
    )  # fmt: skip
    if rate_rps * k >= 1:
        return inf
    # the mean step a decode lives through: its own decode, and the others' work
    t = (a + per_decode) / (1 - rate_rps * k)
    decodes = rate_rps * (osl - 1) * t  # the other decodes in a step
    prompt = rate_rps * work * t
    room = profile.max_batched_tokens - decodes  # prompt tokens a step can take
    if prompt + decodes + 1 >= profile.max_batched_tokens or decodes + 1 >= profile.max_seqs:
        return inf
    # TPOT: steps without a prompt chunk (t0) and with one (t0 + b * chunk)
    t0 = a + (1 + decodes) * per_decode
    chunks = max(1, math.ceil(work / room - 1e-9))
    chunk = work / chunks
    share = min(1.0, max(0.0, (t - t0) / (b * chunk))) if b * chunk > 0 else 0.0
    tpot = (
        t
        if slo.tpot_stat == "mean"
        else _tpot_quantile(
            a + per_decode, k, rate_rps, (osl - 1) * t, workload.arrival_scv, slo.tpot_stat
        )
    )
    # TTFT: the prompt queue. Backlogged prompts go through at the budget's rate: a full
    # prompt step carries `room` prompt tokens, so a prompt occupies work / room of one;
    # alone, a prompt takes its own chunks' steps
    occupy_s = work / room * (a + b * room + decodes * per_decode)
    alone_s = chunks * (a + decodes * per_decode) + b * work
    if rate_rps * occupy_s >= 1:
        return inf
    # a step in progress when the request arrives (the instance is busy while any request is
    # there: Poisson count in the system, empty with probability exp(-L)): its residual, of
    # a step with a prompt chunk (t1) or without (t0), uniform over the length-biased step
    busy = 1 - math.exp(-rate_rps * (alone_s + (osl - 1) * t))
    t1 = t0 + b * chunk
    m1 = share * t1 + (1 - share) * t0
    m2 = share * t1**2 + (1 - share) * t0**2
    m3 = share * t1**3 + (1 - share) * t0**3
    res_mean, res_m2 = busy * m2 / (2 * m1), busy * m3 / (3 * m1)
    # the wait for the prompts ahead: probability, conditional mean and variance
    p_wait, mean_c, var_c = wait_distribution(
        "mg1", rate_rps, occupy_s, workload.isl_scv, 1, workload.arrival_scv
    )
    wait_mean = p_wait * mean_c
    wait_var = p_wait * (var_c + mean_c**2) - wait_mean**2
    mean = res_mean + wait_mean
    if slo.ttft_stat == "mean":
        delay = mean
    else:  # residual + wait as one gamma of their moments
        var = max(res_m2 - res_mean**2, 0.0) + max(wait_var, 0.0)
        delay = gamma_quantile(mean, var, STAT_QUANTILE[slo.ttft_stat]) if mean > 0 else 0.0
    ttft = profile.overhead_s + delay + alone_s
    return AggregatedPoint(
        rate_rps=rate_rps, step_s=t, decodes=decodes, prompt_tokens=prompt, ttft_s=ttft,
        tpot_s=tpot,
    )  # fmt: skip


def _tpot_quantile(
    idle_step_s: float, k: float, rate_rps: float, life_s: float, arrival_scv: float, stat: str
) -> float:
    """A TPOT percentile: a request's TPOT is the mean step over its life, and the step grows
    with the load of that time, ``t = idle / (1 - lambda_local K)``. The arrivals that load
    a request's life (those in decode with it, and the prompts among them) are a window of
    ~``2 life`` weighted triangularly: their count's relative spread is
    ``sqrt(2 scv / (3 lambda life))``; the percentile is the step at that percentile of the
    local rate (normal approximation). Conservative near saturation, where a burst's backlog
    spreads out instead of persisting."""
    z = NormalDist().inv_cdf(STAT_QUANTILE[stat])
    count = rate_rps * life_s
    local = rate_rps * (1 + z * math.sqrt(2 * arrival_scv / (3 * count))) if count > 0 else 0
    load = max(local, 0.0) * k
    return idle_step_s / (1 - load) if load < 1 else math.inf


def _max_rate(profile: AggregatedProfile, workload: Workload, slo: SLO) -> tuple[float, str]:
    """The largest rate one instance sustains with both statistics met, and what binds."""

    def ok(rate: float) -> tuple[bool, str]:
        pt = aggregated_point(profile, workload, rate, slo)
        if not math.isfinite(pt.step_s):
            return False, "capacity"
        if pt.ttft_s > slo.ttft_s:
            return False, "ttft"
        if pt.tpot_s > slo.tpot_s:
            return False, "tpot"
        return True, ""

    lo, hi = 0.0, 1.0
    while ok(hi)[0]:
        lo, hi = hi, hi * 2
        if hi > 1e7:
            break
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if ok(mid)[0] else (lo, mid)
    return lo, ok(hi)[1] or "capacity"


def stable_rate_rps(profile: AggregatedProfile, workload: Workload) -> float:
    """The largest rate one instance carries at all (no SLO), by the fluid model. Below the
    work bound ``1 / K`` when the steps grow long enough to fill the token budget first.

    >>> from pdplan.schema.aggregated import StepTimeModel
    >>> p = AggregatedProfile(gpus_per_instance=1, max_batched_tokens=8192, max_seqs=1024,
    ...     step=StepTimeModel(base_ms=5, prefill_token_us=20, decode_seq_us=100))
    >>> w = Workload.from_rps(isl_tokens=1024, osl_tokens=128, rate_rps=1.0)
    >>> round(stable_rate_rps(p, w), 1)  # 1 / K = 1 / (20 us * 1024 + 127 * 100 us) = 30.1
    29.5
    """
    loose = SLO(ttft_s=86_400, tpot_s=3_600)
    return _max_rate(profile, workload, loose)[0]


def plan_aggregated(profile: AggregatedProfile, workload: Workload, slo: SLO) -> AggregatedPlan:
    """Instances of ``profile`` needed for the workload's rate with the SLOs met (each
    instance gets an equal share of the arrivals).

    :raises InfeasibleSLOError: when an idle instance already misses an SLO

    >>> from pdplan.schema.aggregated import StepTimeModel
    >>> p = AggregatedProfile(gpus_per_instance=1, max_batched_tokens=512, max_seqs=64,
    ...     step=StepTimeModel(base_ms=5, prefill_token_us=20, decode_seq_us=100))
    >>> w = Workload.from_rps(isl_tokens=1024, osl_tokens=128, rate_rps=60.0)
    >>> plan = plan_aggregated(p, w, SLO(ttft_s=0.2, tpot_s=0.02))
    >>> plan.instances, plan.binding, round(plan.per_instance_rps, 1)
    (3, 'ttft', 21.1)
    """
    workload.check_fits(profile.kv_capacity_tokens, "an aggregated instance")
    idle = aggregated_point(profile, workload, 1e-9, slo)
    checks = (
        ("ttft", slo.ttft_stat, idle.ttft_s, slo.ttft_s, f"{idle.ttft_s:.3g} s"),
        ("tpot", slo.tpot_stat, idle.tpot_s, slo.tpot_s, f"{idle.tpot_s * 1e3:.3g} ms"),
    )
    for name, stat, value, limit, shown in checks:
        if value > limit:
            raise InfeasibleSLOError(
                f"an idle aggregated instance already has a {stat} {name.upper()} of {shown}: "
                "no count of aggregated instances meets the SLO",
                field=name,
                achievable=value,
            )
    rate, binding = _max_rate(profile, workload, slo)
    need = workload.rate_rps / rate
    check_count("aggregated", need, workload.rate_rps)
    instances = min(MAX_PLAN_INSTANCES, max(1, math.ceil(need - 1e-9)))
    share = aggregated_point(profile, workload, workload.rate_rps / instances, slo)
    return AggregatedPlan(
        instances=instances,
        gpus=instances * profile.gpus_per_instance,
        per_instance_rps=rate,
        per_instance_tps=rate * workload.tokens_per_request,
        binding=binding,
        max_total_tps=instances * rate * workload.tokens_per_request,
        point=share,
    )
