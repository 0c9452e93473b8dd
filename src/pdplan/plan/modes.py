"""Should I disaggregate at all? The smallest aggregated deployment against the smallest
disaggregated one, for the same workload and SLOs. Pure.

Both answers come from the same profile: its prefill and decode parts plan the disaggregated
deployment (:func:`pdplan.plan.rate.size`), its aggregated part the aggregated one
(:func:`pdplan.capacity.aggregated.plan_aggregated`). The objective is money when the profile
has a price per GPU-hour, GPUs otherwise. A margin under :data:`TIE_SHARE` is a tie: the
planning models are not that precise (docs/models.md). The verdict's sensitivity is checked by
moving each measured input by +-:data:`SENSITIVITY_STEP` and planning again: an input whose
move flips the verdict is named.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from pdplan.capacity.aggregated import AggregatedPlan, plan_aggregated
from pdplan.errors import ConfigError, InfeasibleSLOError
from pdplan.plan.rate import size
from pdplan.plan.sweep_gaps import SweepGap, sweep_gaps, sweep_warning
from pdplan.plan.trace.replay import ReplayResult
from pdplan.schema.plan import DecodeRouting, Model, Plan, PrefillRouting
from pdplan.schema.profile import Profile
from pdplan.schema.workload import SLO, Workload
from pdplan.sim.metrics import SimResult

__all__ = [
    "SENSITIVITY_STEP",
    "TIE_SHARE",
    "ModeComparison",
    "Sensitivity",
    "SimulatedCount",
    "compare_modes",
    "perturbations",
]

#: Relative difference of the objective below which neither way of serving wins.
TIE_SHARE = 0.05
#: How far each measured input is moved to test the verdict.
SENSITIVITY_STEP = 0.2

Verdict = Literal["aggregated", "disaggregated", "tie", "neither"]
_CONFIG = ConfigDict(extra="forbid", frozen=True)


class Sensitivity(BaseModel):
    """The verdict with one input moved."""

    model_config = _CONFIG
    input: str = Field(description="what was moved, e.g. 'prefill TPmax x0.8'")
    verdict: Verdict
    margin: float | None
    flips: bool = Field(description="the verdict differs from the unmoved one")


class SimulatedCount(BaseModel):
    """The fewest aggregated instances whose simulation meets the SLOs."""

    model_config = _CONFIG
    instances: int
    gpus: int
    ttft_s: float | None = Field(description="the SLO's TTFT statistic simulated")
    tpot_s: float | None = Field(description="the SLO's TPOT statistic simulated")
    requests: int = Field(description="requests measured per run")

    @classmethod
    def of(cls, instances: int, gpus_per_instance: int, result: SimResult, slo: SLO) -> Self:
        """From the simulation that met the SLOs."""
        return cls(
            instances=instances,
            gpus=instances * gpus_per_instance,
            ttft_s=None if result.ttft_s is None else result.ttft_s.stat(slo.ttft_stat),
            tpot_s=None if result.tpot_s is None else result.tpot_s.stat(slo.tpot_stat),
            requests=result.requests_measured,
        )


class ModeComparison(BaseModel):
    """Aggregated against disaggregated serving of one workload. The verdict compares the
    disaggregated plan with the simulation-checked aggregated count when there is one (the
    aggregated fluid model's percentiles are approximations, README "Aggregated or
    disaggregated?"), else with the fluid model's."""

    model_config = _CONFIG
    objective: Literal["cost", "gpus"]
    aggregated: AggregatedPlan | None
    aggregated_simulated: SimulatedCount | None = None
    aggregated_infeasible: str | None = None
    disaggregated: Plan | None
    disaggregated_replay: ReplayResult | None = Field(
        None, description="for a trace: the smallest allocation whose replay meets the SLOs"
    )
    disaggregated_infeasible: str | None = None
    aggregated_cost_per_hour: float | None = None
    disaggregated_cost_per_hour: float | None = None
    verdict: Verdict
    margin: float | None = Field(
        description="the loser's objective over the winner's, minus 1 (0.25: 25 % more)"
    )
    sensitivity: list[Sensitivity] = Field(default_factory=list)
    sweep_check: list[SweepGap] = Field(
        default_factory=list,
        description="the aggregated profile's measured sweep against the simulator",
    )

    @property
    def sweep_warning(self) -> str | None:
        """See :func:`sweep_warning`."""
        return sweep_warning(self.sweep_check)

    @property
    def sensitive_to(self) -> list[str]:
        """The inputs whose move flips the verdict."""
        return [s.input for s in self.sensitivity if s.flips]


def _verdict(a: float | None, d: float | None) -> tuple[Verdict, float | None]:
    if a is None and d is None:
        return "neither", None
    if a is None or d is None:
        return ("disaggregated" if a is None else "aggregated"), None
    low, high = min(a, d), max(a, d)
    margin = high / low - 1 if low > 0 else 0.0
    if margin < TIE_SHARE:
        return "tie", margin
    return ("aggregated" if a < d else "disaggregated"), margin


def _scaled(profile: Profile, what: str, factor: float) -> Profile:
    """The profile with one measured input scaled."""
    p, d, agg = profile.prefill, profile.decode, profile.aggregated
    if what == "prefill TPmax":
        points = [t.model_copy(update={"max_tps": t.max_tps * factor}) for t in p.max_throughput]
        return profile.model_copy(
            update={"prefill": p.model_copy(update={"max_throughput": points, "ttft_vs_rate": []})}
        )
    if what == "decode TPOT":
        curves = [
            c.model_copy(
                update={
                    "points": [
                        x.model_copy(update={"tpot_ms": x.tpot_ms * factor, "output_tps": None})
                        for x in c.points
                    ]
                }
            )
            for c in d.curves
        ]
        return profile.model_copy(update={"decode": d.model_copy(update={"curves": curves})})
    if what == "P/D overhead":
        return profile.model_copy(
            update={"prefill": p.model_copy(update={"overhead_s": p.overhead_s * factor})}
        )
    assert agg is not None
    field = {
        "step base": "base_ms",
        "step per prompt token": "prefill_token_us",
        "step per decode": "decode_seq_us",
    }[what]
    step = agg.step.model_copy(update={field: getattr(agg.step, field) * factor})
    return profile.model_copy(update={"aggregated": agg.model_copy(update={"step": step})})


def perturbations(profile: Profile) -> list[tuple[str, float]]:
    """Each measured input the verdict rests on, moved down and up.

    >>> from pdplan.io import default_profile
    >>> names = [name for name, _ in perturbations(default_profile())]
    >>> names[:3]
    ['prefill TPmax', 'prefill TPmax', 'decode TPOT']
    """
    names = ["prefill TPmax", "decode TPOT", "P/D overhead"]
    if profile.aggregated is not None:
        names += ["step base", "step per prompt token", "step per decode"]
    return [(n, f) for n in names for f in (1 - SENSITIVITY_STEP, 1 + SENSITIVITY_STEP)]


def compare_modes(
    profile: Profile,
    workload: Workload,
    slo: SLO,
    *,
    model: Model = "auto",
    prefill_routing: PrefillRouting = "random",
    decode_routing: DecodeRouting = "least_loaded",
    sensitivity: bool = True,
    simulate_requests: int | None = None,
) -> ModeComparison:
    """The smallest aggregated and disaggregated deployments, the verdict and its margin.

    :param sensitivity: also plan with each measured input moved (analytic answers)
    :param simulate_requests: check the aggregated count with the simulator (this many
        requests per run) and judge with it, and set the aggregated profile's measured sweep
        beside the simulator (``sweep_check``); None: the fluid model's count
    :raises ConfigError: when the profile has no aggregated part

    >>> from pdplan.io import default_profile
    >>> from pdplan.schema.aggregated import AggregatedProfile, StepTimeModel
    >>> agg = AggregatedProfile(gpus_per_instance=8, max_batched_tokens=16384, max_seqs=256,
    ...     step=StepTimeModel(base_ms=12, prefill_token_us=36, decode_seq_us=200))
    >>> p = default_profile().model_copy(update={"aggregated": agg})
    >>> w = Workload.from_tpm(isl_tokens=6144, osl_tokens=512, tpm=5e6)
    >>> c = compare_modes(p, w, SLO(ttft_s=2.0, tpot_s=0.020), sensitivity=False)
    >>> c.verdict, c.disaggregated.allocation.gpus, c.aggregated.gpus
    ('disaggregated', 64, 88)
    """
    if profile.aggregated is None:
        raise ConfigError(
            "the profile has no aggregated section: measure one ordinary engine with "
            "pdplan profile aggregated, or plan --mode disaggregated"
        )
    checked = {"sweep_check": sweep_gaps(profile.aggregated)} if simulate_requests else {}
    if workload.replays_trace:
        return _compare_trace(
            profile, workload, slo, model, prefill_routing, decode_routing, simulate_requests
        ).model_copy(update=checked)
    routing = {"model": model, "prefill_routing": prefill_routing, "decode_routing": decode_routing}
    base = _both(profile, workload, slo, lambda p: size(p, workload, slo, **routing))  # type: ignore[arg-type]
    if simulate_requests and base.aggregated is not None:
        base = _simulated(base, profile, workload, slo, simulate_requests)
    if not sensitivity:
        return base.model_copy(update=checked)
    moved = []
    for name, factor in perturbations(profile):
        try:
            other = _both(
                _scaled(profile, name, factor),
                workload,
                slo,
                lambda p: size(p, workload, slo, **routing),  # type: ignore[arg-type]
            )
        except ConfigError:
            continue
        moved.append(
            Sensitivity(
                input=f"{name} x{factor:g}",
                verdict=other.verdict,
                margin=other.margin,
                flips=other.verdict != base.verdict,
            )
        )
    return base.model_copy(update={"sensitivity": moved, **checked})


def _compare_trace(
    profile: Profile,
    workload: Workload,
    slo: SLO,
    model: Model,
    prefill_routing: PrefillRouting,
    decode_routing: DecodeRouting,
    simulate_requests: int | None,
) -> ModeComparison:
    """A trace: both answers replay it (the disaggregated one is ``size --trace``'s, the
    aggregated one the fewest instances whose replay meets the SLOs, searched from the fluid
    model's count at the trace's mean rate). No sensitivity: each move is a new search."""
    from pdplan.plan.trace import plan_trace
    from pdplan.schema.arrivals import Poisson
    from pdplan.sim.aggregated import smallest_aggregated

    agg = profile.aggregated
    assert agg is not None
    price = profile.metadata.cost_per_gpu_hour
    dis: ReplayResult | None = None
    dis_why = agg_why = None
    try:
        tp = plan_trace(profile, workload, slo, model=model, prefill_routing=prefill_routing,
                        decode_routing=decode_routing)  # fmt: skip
        dis = tp.allocation
    except (InfeasibleSLOError, ConfigError) as exc:
        dis_why = str(exc)
    fluid: AggregatedPlan | None = None
    counted: SimulatedCount | None = None
    try:
        fluid = plan_aggregated(agg, workload.model_copy(update={"arrivals": Poisson()}), slo)
        n, result = smallest_aggregated(
            agg, workload, slo, fluid.instances, requests=simulate_requests or 20_000
        )
        counted = SimulatedCount.of(n, agg.gpus_per_instance, result, slo)
    except (InfeasibleSLOError, ConfigError) as exc:
        agg_why = str(exc)
    dis_gpus = None if dis is None else dis.gpus
    verdict, margin = _verdict(None if counted is None else counted.gpus, dis_gpus)
    return ModeComparison(
        objective="cost" if price is not None else "gpus",
        aggregated=fluid,
        aggregated_simulated=counted,
        aggregated_infeasible=agg_why,
        disaggregated=None,
        disaggregated_replay=dis,
        disaggregated_infeasible=dis_why,
        aggregated_cost_per_hour=None if price is None or counted is None else counted.gpus * price,
        disaggregated_cost_per_hour=None if price is None or dis_gpus is None else dis_gpus * price,
        verdict=verdict,
        margin=margin,
    )


def _simulated(
    base: ModeComparison, profile: Profile, workload: Workload, slo: SLO, requests: int
) -> ModeComparison:
    """The comparison judged with the simulator's aggregated count."""
    from pdplan.sim.aggregated import smallest_aggregated

    agg = profile.aggregated
    assert agg is not None and base.aggregated is not None
    try:
        n, result = smallest_aggregated(
            agg, workload, slo, base.aggregated.instances, requests=requests
        )
    except InfeasibleSLOError:
        return base
    counted = SimulatedCount.of(n, agg.gpus_per_instance, result, slo)
    dis = base.disaggregated
    verdict, margin = _verdict(counted.gpus, None if dis is None else dis.allocation.gpus)
    price = profile.metadata.cost_per_gpu_hour
    return base.model_copy(
        update={
            "aggregated_simulated": counted,
            "aggregated_cost_per_hour": None if price is None else counted.gpus * price,
            "verdict": verdict,
            "margin": margin,
        }
    )


def _both(
    profile: Profile, workload: Workload, slo: SLO, disaggregate: Callable[[Profile], Plan]
) -> ModeComparison:
    assert profile.aggregated is not None
    price = profile.metadata.cost_per_gpu_hour
    agg: AggregatedPlan | None = None
    dis: Plan | None = None
    agg_why = dis_why = None
    try:
        agg = plan_aggregated(profile.aggregated, workload, slo)
    except (InfeasibleSLOError, ConfigError) as exc:
        agg_why = str(exc)
    try:
        dis = disaggregate(profile)
    except (InfeasibleSLOError, ConfigError) as exc:
        dis_why = str(exc)
    agg_gpus = None if agg is None else agg.gpus
    dis_gpus = None if dis is None else dis.allocation.gpus
    verdict, margin = _verdict(agg_gpus, dis_gpus)
    return ModeComparison(
        objective="cost" if price is not None else "gpus",
        aggregated=agg,
        aggregated_infeasible=agg_why,
        disaggregated=dis,
        disaggregated_infeasible=dis_why,
        aggregated_cost_per_hour=None if price is None or agg_gpus is None else agg_gpus * price,
        disaggregated_cost_per_hour=None if price is None or dis_gpus is None else dis_gpus * price,
        verdict=verdict,
        margin=margin,
    )
