"""Service times from a profile, precomputed for the simulator: prefill time per request, TPOT
per decode batch, the fixed overhead, the engine's prefill variability."""

from __future__ import annotations

import math
from dataclasses import dataclass

from pdplan.engine.curves import MonotoneCurve
from pdplan.engine.service_time import prefill_time_s
from pdplan.engine.variability import engine_scv
from pdplan.schema.profile import PrefillProfile, Profile
from pdplan.units import ms_to_s

__all__ = ["ServiceModel"]


@dataclass(frozen=True)
class ServiceModel:
    """What the simulator needs from a profile.

    :ivar prefill: the prefill profile (TPmax per ISL, DP groups)
    :ivar overhead_s: fixed TTFT part (transfer, KV move)
    :ivar prefill_scv: the engine's prefill service-time SCV that the default planning model
        assumes for these lengths (:func:`pdplan.engine.variability.engine_scv`)
    :ivar tpot_by_batch_s: ``tpot_by_batch_s[b]`` is TPOT at batch b (index 0 unused),
        linear between measured batches, clamped outside
    """

    prefill: PrefillProfile
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
        length_scv: float = 0.0,
    ) -> ServiceModel:
        curve = profile.decode.curve_for(mean_isl, mean_osl)
        monotone = MonotoneCurve.from_points(
            [float(p.batch) for p in curve.points], [ms_to_s(p.tpot_ms) for p in curve.points]
        )
        top = max_batch or curve.points[-1].batch
        table = (math.inf, *(monotone.at(b).value for b in range(1, top + 1)))
        return cls(
            prefill=profile.prefill,
            overhead_s=profile.prefill.overhead_s,
            prefill_scv=engine_scv(profile.prefill, "auto", length_scv)[0],
            tpot_by_batch_s=table,
            max_batch=top,
            kv_capacity_tokens=kv_capacity_tokens or profile.decode.kv_capacity_tokens,
        )

    @property
    def prefill_servers_per_instance(self) -> int:
        """Attention-DP groups per prefill instance, each its own queue."""
        return self.prefill.dp_groups

    def prefill_time_s(self, tokens: float) -> float:
        """Compute time of one request of ``tokens`` uncached tokens on one DP group."""
        return prefill_time_s(self.prefill, tokens)
