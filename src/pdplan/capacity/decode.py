"""Decode under a TPOT SLO: the batch that meets it, the rate a pool of decode instances
sustains, and the plan for a workload. Pure.

``paper`` holds the largest batch B* whose measured TPOT meets the SLO on every instance
(``B* / TPOT(B*)`` output tok/s each). ``queueing``/``auto`` let the batch fluctuate with the
arrivals (:mod:`pdplan.queueing.decode_batch`): balanced by least-loaded routing across the
pool, or per instance under random routing, capped by the measured output tok/s where the
profile has it. TPOT between measured batches is linear on the running maximum of the
measurements (a bigger batch is never faster), never extrapolated beyond the largest one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pdplan.capacity.pool import RateOf, fractional_count, instances_needed
from pdplan.engine.curves import MonotoneCurve, interpolate
from pdplan.errors import InfeasibleSLOError
from pdplan.queueing.decode_batch import fluctuating_max_rate_rps, fluctuating_tpot_stat_s
from pdplan.schema.plan import DecodePlan, Model
from pdplan.schema.profile import DecodeCurve, DecodeProfile
from pdplan.schema.routing import DecodeRouting
from pdplan.schema.workload import SLO, Workload
from pdplan.units import ms_to_s, s_to_ms

__all__ = ["DecodeBatch", "decode_max_batch", "plan_decode"]

BatchLimit = Literal["tpot_slo", "measured_range", "kv_capacity"]


@dataclass(frozen=True, slots=True)
class DecodeBatch:
    """The decode batch chosen under a TPOT SLO.

    :ivar batch: decode batch size (concurrent requests per instance)
    :ivar tpot_s: TPOT at that batch, seconds (interpolated)
    :ivar limit: what stopped the batch from growing
    :ivar repaired: True if the measured TPOT was not monotone and was raised to be
    """

    batch: int
    tpot_s: float
    limit: BatchLimit
    repaired: bool


def decode_max_batch(
    batches: Sequence[int],
    tpot_s: Sequence[float],
    tpot_slo_s: float,
    max_batch: int | None = None,
) -> DecodeBatch:
    """The largest whole batch whose TPOT meets the SLO, inside the measured range.

    TPOT between measured batches is interpolated linearly on the running maximum of the
    measurements (monotone: a bigger batch is never faster). The batch is never extrapolated
    beyond the largest measured one; ``limit`` says ``"measured_range"`` then. ``max_batch``
    (for example from KV-cache capacity) caps it further (``limit="kv_capacity"``).

    :param batches: measured batch sizes, strictly increasing
    :param tpot_s: measured TPOT per batch, seconds
    :param tpot_slo_s: TPOT SLO, seconds
    :param max_batch: an upper bound on the batch, or None
    :raises InfeasibleSLOError: if the SLO is below the smallest measured TPOT

    >>> b = decode_max_batch([10, 20, 30, 40], [0.0128, 0.0164, 0.0188, 0.0216], 0.020)
    >>> b.batch, round(b.tpot_s * 1000, 2), b.limit
    (34, 19.92, 'tpot_slo')
    """
    curve = MonotoneCurve.from_points([float(b) for b in batches], tpot_s)
    x = curve.largest_x_at_most(tpot_slo_s)
    if x is None:
        fastest = min(range(len(batches)), key=lambda i: tpot_s[i])
        repair = (
            f" (TPOT {s_to_ms(tpot_s[fastest]):.4g} ms was measured at batch {batches[fastest]}, "
            f"but below it batch {batches[0]} measured {s_to_ms(tpot_s[0]):.4g} ms: a bigger "
            "batch is never faster, so pdplan holds the running maximum; re-measure the noisy "
            "points)"
            if tpot_s[fastest] < curve.ys[0]
            else ""
        )
        raise InfeasibleSLOError(
            f"TPOT SLO {s_to_ms(tpot_slo_s):.4g} ms is below the smallest "
            f"{'usable' if repair else 'measured'} TPOT "
            f"{s_to_ms(curve.ys[0]):.4g} ms (batch {batches[0]}){repair}; set the TPOT SLO to at "
            f"least {s_to_ms(curve.ys[0]):.4g} ms or measure a faster configuration",
            field="tpot",
            achievable=curve.ys[0],
        )
    limit: BatchLimit = "measured_range" if curve.ys[-1] < tpot_slo_s else "tpot_slo"
    batch = math.floor(x + 1e-9)
    if max_batch is not None and max_batch < batch:
        if max_batch < 1:
            raise InfeasibleSLOError(
                "the KV cache of a decode instance cannot hold one request; "
                "use shorter requests or a decode instance with more KV-cache memory",
                field="kv_capacity",
                achievable=0.0,
            )
        batch, limit = max_batch, "kv_capacity"
    return DecodeBatch(batch, curve.at(batch).value, limit, curve.repaired)


def _select_curve(profile: DecodeProfile, workload: Workload, warnings: list[str]) -> DecodeCurve:
    """The curve measured at the workload's (ISL, OSL), else the nearest, with a warning."""
    curve = profile.curve_for(workload.isl_tokens, workload.osl_tokens)
    if (curve.isl_tokens, curve.osl_tokens) != (workload.isl_tokens, workload.osl_tokens):
        warnings.append(
            f"decode TPOT was not measured at ISL {workload.isl_tokens:.0f} / OSL "
            f"{workload.osl_tokens:.0f}; using the curve measured at ISL {curve.isl_tokens} / OSL "
            f"{curve.osl_tokens} (nearest mean context): profile the workload's lengths for an "
            "accurate plan"
        )
    return curve


def _tpot_points_s(curve: DecodeCurve, stat: str, warnings: list[str]) -> list[float]:
    """Measured TPOT per batch for the SLO statistic (mean, or a measured percentile)."""
    if stat == "mean":
        return [ms_to_s(p.tpot_ms) for p in curve.points]
    values = [getattr(p, f"tpot_{stat}_ms") for p in curve.points]
    if any(v is None for v in values):
        warnings.append(
            f"the profile has no measured {stat} TPOT at every batch; using the mean TPOT curve "
            "(optimistic for a percentile SLO): profile with pdplan to record percentiles"
        )
        return [ms_to_s(p.tpot_ms) for p in curve.points]
    return [ms_to_s(v) for v in values]


def _chosen_batch(
    profile: DecodeProfile, curve: DecodeCurve, workload: Workload, slo: SLO, warnings: list[str]
) -> tuple[DecodeBatch, list[int], list[float], int | None]:
    """B* under the TPOT SLO (and the KV cap), with the curve it came from."""
    kv_batch = None
    if profile.kv_capacity_tokens is not None:
        kv_batch = int(profile.kv_capacity_tokens // workload.tokens_per_request)
    batches = [p.batch for p in curve.points]
    tpots = _tpot_points_s(curve, slo.tpot_stat, warnings)
    chosen = decode_max_batch(batches, tpots, slo.tpot_s, kv_batch)
    if chosen.repaired:
        warnings.append(
            "measured decode TPOT falls somewhere as the batch grows; pdplan uses the running "
            "maximum (a bigger batch is never faster): re-measure the noisy points"
        )
    if chosen.limit == "measured_range":
        warnings.append(
            f"TPOT SLO {s_to_ms(slo.tpot_s):.4g} ms allows batches beyond the largest measured "
            f"({batches[-1]}, TPOT {s_to_ms(chosen.tpot_s):.4g} ms); the batch is capped there "
            "(not extrapolated): measure larger batches to plan beyond it"
        )
    return chosen, batches, tpots, kv_batch


def _fluctuating_rate(
    table: list[float], osl: float, slo: SLO, dispersion: float, cap_tps: float, random: bool
) -> RateOf:
    """The pool's rate with the batch fluctuating: least-loaded routing balances the pool,
    random routing makes each instance its own, fed a thinned stream."""
    top, cache = len(table), {}

    def tpot(batch: int) -> float:
        return table[batch - 1]

    def rate_of(n: int) -> float:
        if n not in cache:
            if random:  # n single instances, each fed a thinned stream
                thinned = 1 + (dispersion - 1) / n
                one = fluctuating_max_rate_rps(tpot, top, osl, slo.tpot_s, slo.tpot_stat, thinned)
                rate = n * one
            else:
                rate = fluctuating_max_rate_rps(
                    tpot, top, osl, slo.tpot_s, slo.tpot_stat, dispersion, n
                )
            cache[n] = min(rate, n * cap_tps / osl)
        return cache[n]

    return rate_of


def _batch_table(
    curve: DecodeCurve, batches: list[int], tpots: list[float], kv_batch: int | None, batch: int
) -> tuple[list[float], float]:
    """The TPOT (s) at every batch up to the cap (measured, KV), monotone; and the measured
    output tok/s at the chosen batch (inf when the profile does not have it)."""
    measured = [p.output_tps for p in curve.points]
    cap_tps = math.inf
    if all(v is not None for v in measured):
        # measured output tok/s, not batch / TPOT, where the profile has it: they differ when
        # requests spend part of their life outside decode (prefill, KV transfer, gaps)
        cap_tps = interpolate(batches, measured, batch).value  # type: ignore[arg-type]
    top = min(batches[-1], kv_batch) if kv_batch is not None else batches[-1]
    monotone = MonotoneCurve.from_points([float(b) for b in batches], tpots)
    return [monotone.at(b).value for b in range(1, top + 1)], cap_tps


def _mean_batch(
    rate: float, whole: int, table: list[float], osl: float, dispersion: float, random: bool
) -> int:
    """The operating point at the target: the mean batch of an instance (Little's law on the
    mean TPOT), at most the cap."""
    per_rps, top = rate / whole, len(table)
    mean_tpot = fluctuating_tpot_stat_s(
        per_rps if random else rate,
        lambda b: table[b - 1],
        top,
        osl,
        "mean",
        1 + (dispersion - 1) / whole if random else dispersion,
        1 if random else whole,
    )
    if not math.isfinite(mean_tpot):
        return top
    return min(max(1, round(per_rps * (osl - 1) * mean_tpot)), top)


def plan_decode(
    profile: DecodeProfile,
    workload: Workload,
    slo: SLO,
    warnings: list[str],
    model: Model,
    routing: DecodeRouting,
) -> tuple[DecodePlan, RateOf]:
    """The decode plan for the workload, and the pool's rate for any instance count.

    :raises InfeasibleSLOError: when no instance count meets the TPOT SLO

    >>> from pdplan import SLO, Workload, default_profile
    >>> w = Workload.from_tpm(isl_tokens=6144, osl_tokens=512, tpm=5e6)
    >>> plan, rate_of = plan_decode(
    ...     default_profile().decode, w, SLO(ttft_s=2, tpot_s=0.02), [], "paper", "least_loaded"
    ... )
    >>> plan.batch, round(plan.effective_output_tps, 1)  # the paper's B* = 34, eq. 15
    (34, 1706.8)
    """
    workload.check_fits(profile.kv_capacity_tokens, "a decode instance")
    curve = _select_curve(profile, workload, warnings)
    chosen, batches, tpots, kv_batch = _chosen_batch(profile, curve, workload, slo, warnings)
    osl, rate = workload.osl_tokens, workload.rate_rps
    held_tps = chosen.batch / chosen.tpot_s
    if model == "paper":  # the batch B* held on every instance
        per_instance_rps = held_tps / osl
        plan = DecodePlan(
            batch=chosen.batch,
            tpot_s=chosen.tpot_s,
            batch_limit=chosen.limit,
            effective_output_tps=held_tps,
            instances=instances_needed(rate, osl, held_tps),
            gpus_per_instance=profile.gpus_per_instance,
            arrival_dispersion=1.0,
        )
        return plan, lambda n: n * per_instance_rps
    table, cap_tps = _batch_table(curve, batches, tpots, kv_batch, chosen.batch)
    dispersion, random = workload.arrival_scv, routing == "random"
    rate_of = _fluctuating_rate(table, osl, slo, dispersion, cap_tps, random)
    if rate_of(1) <= 0:  # the SLO holds at batch 1 (checked above) but not with fluctuation
        raise InfeasibleSLOError(
            f"{slo.tpot_stat} TPOT SLO {s_to_ms(slo.tpot_s):.4g} ms cannot be met with the "
            "batch fluctuating under these arrivals; raise the TPOT SLO",
            field="tpot",
            achievable=table[0],
        )
    whole, instances = fractional_count(rate_of, rate, "decode")
    batch = _mean_batch(rate, whole, table, osl, dispersion, random)
    if rate <= min(held_tps, cap_tps) / osl and whole > 1:  # held fits one, fluctuation not
        warnings.append(
            f"one decode instance would need its batch held at {chosen.batch}; with these "
            f"arrivals it fluctuates and one instance sustains {rate_of(1):.4g} req/s "
            f"(target {rate:.4g}): two instances"
        )
    if cap_tps < held_tps:
        warnings.append(
            f"measured decode throughput at batch {chosen.batch} is {cap_tps:,.0f} tok/s, below "
            f"the TPOT-based {held_tps:,.0f} tok/s; planning with the measured throughput"
        )
    plan = DecodePlan(
        batch=chosen.batch,
        tpot_s=chosen.tpot_s,
        batch_limit=chosen.limit,
        effective_output_tps=rate / instances * osl,
        instances=instances,
        gpus_per_instance=profile.gpus_per_instance,
        mean_batch=batch,
        arrival_dispersion=dispersion,
    )
    return plan, rate_of
