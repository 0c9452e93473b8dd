"""How far pdplan's predictions are from measurement: each measured step (an open-loop run at
one rate) beside what pdplan predicts for the same allocation, workload and rate. Pure.

The prediction for a step is :func:`pdplan.plan.verify.predict` on the step's own workload: its
mean ISL and OSL (fixed: a summary does not give the distribution), its arrival process, the
rate it offered; the simulator runs the planning model's assumptions (routing, engine
variability), and the planner's capacity gives its own verdict (the step's rate against the
planned capacity of the allocation). Errors are ``predicted / measured - 1``: positive when
pdplan predicts slower than measured (conservative for TTFT and TPOT).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field

from pdplan.measured.runs import BenchRun
from pdplan.schema.arrivals import Gamma, Poisson
from pdplan.schema.plan import Model
from pdplan.schema.profile import Profile
from pdplan.schema.verdict import judge
from pdplan.schema.workload import SLO, Workload
from pdplan.sim.sweep import SweepPoint

__all__ = ["Comparison", "ErrorSummary", "StepComparison", "compare_runs"]

_CONFIG = ConfigDict(extra="forbid", frozen=True)
_METRICS = ("ttft_mean", "ttft_p90", "tpot_mean", "tpot_p90")


class StepComparison(BaseModel):
    """One measured step beside its prediction; seconds throughout, None where unknown."""

    model_config = _CONFIG
    source: str
    isl_tokens: float
    osl_tokens: float
    rate_rps: float = Field(description="the rate the step offered")
    measured_ttft_mean_s: float | None
    measured_ttft_p90_s: float | None
    measured_tpot_mean_s: float | None
    measured_tpot_p90_s: float | None
    predicted_ttft_mean_s: float | None
    predicted_ttft_p90_s: float | None
    predicted_tpot_mean_s: float | None
    predicted_tpot_p90_s: float | None
    measured_meets_slo: bool | None = Field(description="None: the SLO's statistic not reported")
    simulator_meets_slo: bool | None
    planner_meets_slo: bool = Field(description="rate <= the planner's capacity of the alloc")
    planned_max_total_tps: float = Field(description="the planner's capacity, this workload")
    simulated_max_total_tps: float = Field(description="the simulator's capacity, this workload")
    errors: dict[str, float | None] = Field(description="predicted / measured - 1 per metric")


class ErrorSummary(BaseModel):
    """Errors of one metric over the steps that have both values."""

    model_config = _CONFIG
    metric: str
    steps: int
    median_abs: float | None = Field(description="median |error|")
    worst: float | None = Field(description="the error of largest magnitude, signed")
    bias: float | None = Field(description="mean signed error (+: pdplan predicts slower)")


class Comparison(BaseModel):
    """Every step, and the summary per metric; the verdict agreement."""

    model_config = _CONFIG
    allocation: str
    plan_model: str
    slo: SLO
    steps: list[StepComparison]
    summary: list[ErrorSummary]
    verdicts_agree: int = Field(
        description="steps where the simulator's verdict equals the measured"
    )
    verdicts_known: int = Field(description="steps with both verdicts known")
    notes: list[str]


def _error(predicted: float | None, measured: float | None) -> float | None:
    if predicted is None or measured is None or measured <= 0:
        return None
    return predicted / measured - 1


def _measured_verdict(run: BenchRun, slo: SLO) -> bool | None:
    """The one verdict on a measured step (errors included; no keep-up check: a finite
    benchmark's completion rate includes its drain); None when the tool did not report the
    SLO's statistic."""
    ttft = run.ttft_s.stat(slo.ttft_stat) if run.ttft_s else None
    tpot = run.tpot_s.stat(slo.tpot_stat) if run.tpot_s else None
    if ttft is None or (tpot is None and not run.prefill_only):
        return None
    requests = run.requests + run.failed
    return judge(run.ttft_s, run.tpot_s, slo, requests=requests, failed=run.failed).meets


def _workload(run: BenchRun) -> Workload:
    assert run.rate_rps is not None
    scv = run.arrival_scv if run.arrival_scv is not None else 1.0
    arrivals = Poisson() if abs(scv - 1) < 1e-9 else Gamma(scv=scv)
    return Workload.from_rps(
        isl_tokens=max(1, round(run.isl_tokens)),
        osl_tokens=max(1, round(run.osl_tokens)),
        rate_rps=run.rate_rps,
        arrivals=arrivals,
    )


def _summary(steps: list[StepComparison]) -> list[ErrorSummary]:
    out = []
    for metric in _METRICS:
        errs = [e for s in steps if (e := s.errors.get(metric)) is not None]
        out.append(
            ErrorSummary(
                metric=metric,
                steps=len(errs),
                median_abs=statistics.median(abs(e) for e in errs) if errs else None,
                worst=max(errs, key=abs) if errs else None,
                bias=statistics.fmean(errs) if errs else None,
            )
        )
    return out


def compare_runs(
    profile: Profile,
    runs: list[BenchRun],
    slo: SLO,
    prefill_instances: int,
    decode_instances: int,
    *,
    model: Model = "auto",
    requests: int = 10_000,
    seed: int = 42,
    on_group: Callable[[str], None] | None = None,
) -> Comparison:
    """Each open-loop run beside pdplan's prediction for mPnD (see the module docstring).

    :raises ConfigError: when no run is an open-loop step
    """
    from pdplan.errors import ConfigError
    from pdplan.plan.verify import predict

    steps_in = [r for r in runs if r.open_loop]
    if not steps_in:
        raise ConfigError(
            "compare: no open-loop step among the measured runs (closed-loop runs at a fixed "
            "concurrency are profile data: pdplan import)"
        )
    notes = []
    if any(r.fixed_lengths is not True for r in steps_in):
        notes.append(
            "some steps' lengths are not known to be fixed: predicted at their mean ISL/OSL"
        )
    groups: dict[tuple[int, int, float], list[BenchRun]] = defaultdict(list)
    for r in steps_in:
        w = _workload(r)
        groups[(round(w.isl_tokens), round(w.osl_tokens), w.arrival_scv)].append(r)
    rows: list[StepComparison] = []
    for (isl, osl, scv), group in groups.items():
        base = _workload(group[0])
        if on_group is not None:
            on_group(f"predicting ISL {isl} / OSL {osl} (SCV {scv:g}) at {len(group)} rate(s)")
        assert base.rate_rps > 0
        multipliers = [r.rate_rps / base.rate_rps for r in group if r.rate_rps]
        p = predict(
            profile,
            base,
            slo,
            prefill_instances,
            decode_instances,
            multipliers,
            model=model,
            requests=requests,
            seed=seed,
        )
        rows.extend(
            _step(run, point, slo, p.planned_max_total_tps, p.simulated_max_total_tps)
            for run, point in zip(group, p.simulated_sweep, strict=True)
        )
    known = [
        r for r in rows if r.measured_meets_slo is not None and r.simulator_meets_slo is not None
    ]
    return Comparison(
        allocation=f"{prefill_instances}P{decode_instances}D",
        plan_model=model,
        slo=slo,
        steps=sorted(rows, key=lambda r: (round(r.isl_tokens), round(r.osl_tokens), r.rate_rps)),
        summary=_summary(rows),
        verdicts_agree=sum(r.measured_meets_slo == r.simulator_meets_slo for r in known),
        verdicts_known=len(known),
        notes=notes,
    )


def _step(
    run: BenchRun, point: SweepPoint, slo: SLO, planned_tps: float, simulated_tps: float | None
) -> StepComparison:
    """One measured step beside the simulator's prediction at its rate."""
    assert run.rate_rps is not None
    measured: dict[str, float | None] = {
        f"{name}_{stat}": (None if summary is None else summary.stat(stat))
        for name, summary in (("ttft", run.ttft_s), ("tpot", run.tpot_s))
        for stat in ("mean", "p90")
    }
    predicted: dict[str, float | None] = {
        "ttft_mean": point.ttft_mean_s,
        "ttft_p90": point.ttft_p90_s,
        "tpot_mean": point.tpot_mean_s,
        "tpot_p90": point.tpot_p90_s,
    }
    return StepComparison(
        source=run.source,
        isl_tokens=run.isl_tokens,
        osl_tokens=run.osl_tokens,
        rate_rps=run.rate_rps,
        **{f"measured_{k}_s": v for k, v in measured.items()},
        **{f"predicted_{k}_s": v for k, v in predicted.items()},
        measured_meets_slo=_measured_verdict(run, slo),
        simulator_meets_slo=point.meets_slo,
        planner_meets_slo=run.rate_rps * _workload(run).tokens_per_request <= planned_tps,
        planned_max_total_tps=planned_tps,
        simulated_max_total_tps=simulated_tps,
        errors={k: _error(predicted[k], measured[k]) for k in _METRICS},
    )
