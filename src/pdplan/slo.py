"""SLO-constrained throughput of one instance: the heart of the paper's method.

Pure functions on floats (seconds, tokens, tokens/s). Sources: arXiv 2603.04716,
eq. 13 (prefill under TTFT) and its section on decode under TPOT.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pdplan.curves import MonotoneCurve
from pdplan.errors import ConfigError, InfeasibleSLOError
from pdplan.queueing.mm1 import mm1_max_arrival_rate_rps
from pdplan.units import s_to_ms

__all__ = [
    "DecodeBatch",
    "decode_max_batch",
    "instances_needed",
    "min_mean_ttft_s",
    "prefill_effective_tps",
]

BatchLimit = Literal["tpot_slo", "measured_range", "kv_capacity"]


def min_mean_ttft_s(
    max_tps: float, isl_tokens: float, overhead_s: float, dp_groups: int = 1
) -> float:
    """The smallest mean TTFT any load reaches: overhead plus the bare prefill time.

    With ``dp_groups`` attention-DP groups sharing the instance's TPmax, one group computes
    a request in ``dp_groups * ISL / TPmax`` seconds.

    >>> round(min_mean_ttft_s(max_tps=28309, isl_tokens=6144, overhead_s=0.1), 4)
    0.317
    """
    return overhead_s + dp_groups * isl_tokens / max_tps


def prefill_effective_tps(
    max_tps: float,
    isl_tokens: float,
    ttft_s: float,
    overhead_s: float,
    dp_groups: int = 1,
) -> float:
    """Prefill throughput of one instance that keeps the mean TTFT at the SLO (eq. 13).

    Each of the ``dp_groups`` groups is an M/M/1 queue with service rate
    ``mu = (TPmax / dp_groups) / ISL``. Setting its mean sojourn ``1 / (mu - lambda)`` to the
    budget ``TTFT - T_overhead`` and summing over groups gives

        TP_p = TPmax - dp_groups * ISL / (TTFT - T_overhead)

    which is the paper's eq. 13 for ``dp_groups = 1``.

    :param max_tps: TPmax, input tokens/s of the instance never idle, > 0
    :param isl_tokens: tokens each request needs prefilled (uncached ISL), > 0
    :param ttft_s: mean TTFT SLO, seconds
    :param overhead_s: fixed TTFT part outside prefill (transfer, KV move), seconds, >= 0
    :param dp_groups: independent attention-DP groups per instance, >= 1
    :return: input tokens/s one instance sustains with the SLO met, in (0, TPmax)
    :raises InfeasibleSLOError: if TTFT <= overhead + bare prefill time

    >>> round(prefill_effective_tps(28309, 6144, ttft_s=2.0, overhead_s=0.1), 1)
    25075.3
    """
    if max_tps <= 0 or isl_tokens <= 0 or overhead_s < 0 or dp_groups < 1:
        raise ConfigError(
            f"prefill inputs out of range: max_tps={max_tps} (> 0), isl_tokens={isl_tokens} "
            f"(> 0), overhead_s={overhead_s} (>= 0), dp_groups={dp_groups} (>= 1)"
        )
    floor_s = min_mean_ttft_s(max_tps, isl_tokens, overhead_s, dp_groups)
    if ttft_s <= floor_s:
        raise InfeasibleSLOError(
            f"TTFT SLO {ttft_s:.4g} s cannot be met by any number of prefill instances: "
            f"overhead {overhead_s:.4g} s + bare prefill time {floor_s - overhead_s:.4g} s "
            f"(ISL {isl_tokens:.0f} tokens at {max_tps / dp_groups:.6g} tok/s) = "
            f"{floor_s:.4g} s is the smallest mean TTFT; set the TTFT SLO above {floor_s:.4g} s",
            field="ttft",
            achievable=floor_s,
        )
    group_service_rate_rps = (max_tps / dp_groups) / isl_tokens
    group_rate_rps = mm1_max_arrival_rate_rps(group_service_rate_rps, ttft_s - overhead_s)
    return dp_groups * group_rate_rps * isl_tokens


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
    :param tpot_slo_s: mean TPOT SLO, seconds
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


def instances_needed(rate_rps: float, tokens_per_request: float, instance_tps: float) -> float:
    """Fractional instance count (eqs. 5-6): rate * tokens per request / per-instance tok/s.

    >>> round(instances_needed(83333.33 / 6656, 6144, 25075.3), 3)
    3.068
    """
    if instance_tps <= 0:
        raise ConfigError(f"per-instance throughput must be > 0 tok/s, got {instance_tps}")
    return rate_rps * tokens_per_request / instance_tps
