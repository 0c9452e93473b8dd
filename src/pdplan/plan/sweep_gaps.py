"""The aggregated model against its own measured sweep: each point of an aggregated profile's
rate sweep beside the simulator fed with the profile's step-time model at the same rate and
shape; a gap past :data:`SWEEP_GAP_WARN` means the aggregated plan may over-promise. Pure."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from pdplan.schema.aggregated import AggregatedProfile, AggregatedRatePoint
from pdplan.schema.workload import Workload

__all__ = ["SWEEP_GAP_WARN", "SweepGap", "sweep_gaps", "sweep_warning"]

#: A measured sweep statistic this much above the simulated one: the aggregated plan may
#: over-promise, and the comparison says so.
SWEEP_GAP_WARN = 0.2
_CONFIG = ConfigDict(extra="forbid", frozen=True)


class SweepGap(BaseModel):
    """One point of the aggregated profile's measured rate sweep against the simulator fed
    with the profile's step-time model at the same rate and shape: how far the model that
    plans the aggregated deployment is from the engine it describes."""

    model_config = _CONFIG
    point: AggregatedRatePoint = Field(description="measured")
    ttft_mean_sim_s: float = Field(description="simulated")
    tpot_mean_sim_ms: float | None = Field(description="simulated (None: one output token)")

    @property
    def ttft_gap(self) -> float:
        """Measured over simulated, minus 1 (0.35: the engine is 35 % slower)."""
        return self.point.ttft_mean_s / self.ttft_mean_sim_s - 1

    @property
    def tpot_gap(self) -> float | None:
        if self.point.tpot_mean_ms is None or not self.tpot_mean_sim_ms:
            return None
        return self.point.tpot_mean_ms / self.tpot_mean_sim_ms - 1

    @property
    def worst_gap(self) -> float:
        tpot = self.tpot_gap
        return self.ttft_gap if tpot is None else max(self.ttft_gap, tpot)


def sweep_gaps(agg: AggregatedProfile, requests: int = 4000) -> list[SweepGap]:
    """Simulate one instance at each measured sweep point (Poisson, the point's fixed
    lengths) and set the measurement beside it.

    >>> from pdplan.schema.aggregated import AggregatedRatePoint, StepTimeModel
    >>> point = AggregatedRatePoint(isl_tokens=1024, osl_tokens=11, rate_rps=0.01,
    ...     requests=100, ttft_mean_s=0.0457, ttft_p90_s=0.05, tpot_mean_ms=6.0)
    >>> p = AggregatedProfile(gpus_per_instance=1, max_batched_tokens=512, max_seqs=64,
    ...     step=StepTimeModel(base_ms=5, prefill_token_us=20, decode_seq_us=100),
    ...     sweep=[point])
    >>> gap = sweep_gaps(p, requests=200)[0]  # idle: 2 chunks of 15.24 ms; 5.1 ms steps
    >>> round(gap.ttft_gap, 1), round(gap.tpot_gap, 1)  # measured 50 % and ~17 % slower
    (0.5, 0.2)
    """
    from pdplan.sim.aggregated import simulate_aggregated

    gaps = []
    for point in agg.sweep:
        w = Workload.from_rps(
            isl_tokens=point.isl_tokens, osl_tokens=point.osl_tokens, rate_rps=point.rate_rps
        )
        result = simulate_aggregated(agg, w, 1, requests=requests)
        if result.ttft_s is None:
            continue
        tpot = None if result.tpot_s is None else result.tpot_s.mean * 1e3
        gaps.append(
            SweepGap(point=point, ttft_mean_sim_s=result.ttft_s.mean, tpot_mean_sim_ms=tpot)
        )
    return gaps


def sweep_warning(gaps: list[SweepGap]) -> str | None:
    """Set when the engine measured slower than the aggregated model by more than
    :data:`SWEEP_GAP_WARN` at a sweep point: the aggregated plan may over-promise."""
    worst = max(gaps, key=lambda g: g.worst_gap, default=None)
    if worst is None or worst.worst_gap <= SWEEP_GAP_WARN:
        return None
    what = "TTFT" if worst.worst_gap == worst.ttft_gap else "TPOT"
    return (
        f"the aggregated engine measured a mean {what} {worst.worst_gap:.0%} above the "
        f"simulated one at {worst.point.rate_rps:.3g} req/s (its profile's own sweep): the "
        "aggregated plan may over-promise"
    )
