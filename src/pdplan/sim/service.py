"""Service times from a profile: prefill time per request, TPOT per decode batch, overhead."""

from __future__ import annotations

import math
from dataclasses import dataclass

from pdplan.curves import MonotoneCurve, interpolate
from pdplan.models.profile import Profile
from pdplan.units import ms_to_s
from pdplan.variability import fit_engine_scv

__all__ = ["ServiceModel"]


@dataclass(frozen=True)
class ServiceModel:
    """What the simulator needs from a profile, precomputed for speed.

    :ivar prefill_isls: measured ISLs; :ivar prefill_tps: TPmax at each
    :ivar overhead_s: fixed TTFT part (transfer, KV move)
    :ivar prefill_scv: the engine's prefill service-time SCV fitted from the profile's Poisson
        sweep (0 without one)
    :ivar tpot_by_batch_s: ``tpot_by_batch_s[b]`` is TPOT at batch b (index 0 unused),
        linear between measured batches, clamped outside
    """

    prefill_isls: tuple[int, ...]
    prefill_tps: tuple[float, ...]
    overhead_s: float
    prefill_scv: float
    tpot_by_batch_s: tuple[float, ...]
    max_batch: int
    kv_capacity_tokens: int | None

    @classmethod
    def from_profile(
        cls,
        profile: Profile,
        mean_isl: float,
        mean_osl: float,
        max_batch: int | None = None,
        kv_capacity_tokens: int | None = None,
    ) -> ServiceModel:
        curve = profile.decode.curve_for(mean_isl, mean_osl)
        monotone = MonotoneCurve.from_points(
            [float(p.batch) for p in curve.points], [ms_to_s(p.tpot_ms) for p in curve.points]
        )
        top = max_batch or curve.points[-1].batch
        table = (math.inf, *(monotone.at(b).value for b in range(1, top + 1)))
        points = profile.prefill.max_throughput
        return cls(
            prefill_isls=tuple(p.isl_tokens for p in points),
            prefill_tps=tuple(p.max_tps for p in points),
            overhead_s=profile.prefill.overhead_s,
            prefill_scv=fit.scv if (fit := fit_engine_scv(profile.prefill)) else 0.0,
            tpot_by_batch_s=table,
            max_batch=top,
            kv_capacity_tokens=kv_capacity_tokens or profile.decode.kv_capacity_tokens,
        )

    def prefill_time_s(self, isl_tokens: int) -> float:
        """Compute time of one request alone: ISL / TPmax(ISL)."""
        return isl_tokens / interpolate(self.prefill_isls, self.prefill_tps, isl_tokens).value
