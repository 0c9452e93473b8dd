"""The engine's effective prefill service SCV, fitted from a Poisson TTFT sweep, and its use
by the planner and the simulator."""

from __future__ import annotations

import pytest

from pdplan import SLO, Workload
from pdplan.engine.variability import combine_scv, fit_engine_scv
from pdplan.io import parse_profile
from pdplan.plan import rate as planner
from pdplan.queueing import mm1_mean_sojourn_s
from pdplan.schema.profile import PrefillProfile, Profile
from pdplan.sim import ClusterConfig, SimConfig, simulate

TPMAX = 10_000.0  # tok/s: ISL 1000 -> S = 0.1 s
OVERHEAD_S = 0.02


def pk_ttft_s(rate: float, scv: float, service_s: float = 0.1) -> float:
    """Mean TTFT by Pollaczek-Khinchine for a given service SCV."""
    rho = rate * service_s
    return OVERHEAD_S + service_s + rate * service_s**2 * (1 + scv) / (2 * (1 - rho))


def profile_dict(sweep: list[tuple[float, float]]) -> dict[str, object]:
    return {
        "schema_version": 1,
        "prefill": {
            "gpus_per_instance": 1,
            "overhead_s": OVERHEAD_S,
            "max_throughput": [{"isl_tokens": 1000, "max_tps": TPMAX}],
            "ttft_vs_rate": [
                {
                    "isl_tokens": 1000,
                    "rate_rps": rate,
                    "ttft_mean_s": ttft,
                    "ttft_p50_s": ttft,
                    "ttft_p90_s": ttft,
                    "ttft_p99_s": ttft,
                    "requests": 100,
                }
                for rate, ttft in sweep
            ],
        },
        "decode": {
            "gpus_per_instance": 1,
            "curves": [
                {
                    "isl_tokens": 1000,
                    "osl_tokens": 2,
                    "points": [{"batch": 1, "tpot_ms": 1.0}, {"batch": 64, "tpot_ms": 1.0}],
                }
            ],
        },
    }


def swept(scv: float, rates: tuple[float, ...] = (3.0, 6.0, 8.0, 9.0)) -> Profile:
    return parse_profile(profile_dict([(r, pk_ttft_s(r, scv)) for r in rates]))


@pytest.mark.parametrize("scv", [0.0, 0.35, 1.0, 2.5])
def test_fit_recovers_the_scv_behind_pollaczek_khinchine(scv: float) -> None:
    fit = fit_engine_scv(swept(scv).prefill)
    assert fit is not None
    assert fit.scv == pytest.approx(scv, abs=1e-9)
    assert fit.points == 3  # the median is taken at >= 50 % utilization
    assert fit.max_utilization == pytest.approx(0.9)
    assert all(s == pytest.approx(scv, abs=1e-9) for s in fit.point_scv)


def test_batching_below_md1_is_kept_raw_and_clamped_for_use() -> None:
    # Half the M/D/1 wait: a batching engine beats one-at-a-time service.
    rates = (5.0, 8.0)
    half = [(r, OVERHEAD_S + 0.1 + (pk_ttft_s(r, 0.0) - OVERHEAD_S - 0.1) / 2) for r in rates]
    fit = fit_engine_scv(parse_profile(profile_dict(half)).prefill)
    assert fit is not None
    assert fit.raw_scv == pytest.approx(-0.5)
    assert fit.scv == 0.0


def test_no_usable_sweep_gives_none() -> None:
    assert fit_engine_scv(parse_profile(profile_dict([])).prefill) is None
    # at or above 98 % utilization a finite run's mean says little: skipped
    saturated = PrefillProfile.model_validate(profile_dict([(9.9, 5.0)])["prefill"])
    assert fit_engine_scv(saturated) is None


def test_combine_scv_is_the_scv_of_a_product() -> None:
    # Var(XY) for independent X, Y with means 1: (1 + a)(1 + b) - 1
    assert combine_scv(0.25, 0.0) == 0.25
    assert combine_scv(0.5, 1.0) == pytest.approx(2.0)


def test_planner_uses_the_fitted_scv_and_auto_assumes_exponential_without_one() -> None:
    workload = Workload(isl_tokens=1000, osl_tokens=2, total_tps=10.0 * 1002)
    slo = SLO(ttft_s=0.5, tpot_s=0.01)
    with_sweep = swept(0.5)
    for model in ("queueing", "auto"):
        plan = planner.size(with_sweep, workload, slo, model=model)  # type: ignore[arg-type]
        assert plan.prefill.service_scv == pytest.approx(0.5)
        assert plan.prefill.queue_model == "M/G/1, SCV 0.5"
    bare = parse_profile(profile_dict([]))
    assert planner.size(bare, workload, slo, model="queueing").prefill.queue_model == "M/D/1"
    assert planner.size(bare, workload, slo, model="auto").prefill.queue_model == "M/M/1"
    # M/G/1 budget 0.48 s with SCV 0.5: rate solves 0.1 + 0.0075 r / (1 - 0.1 r) = 0.48
    plan = planner.size(with_sweep, workload, slo, model="queueing")
    rate = plan.prefill.effective_input_tps / 1000
    assert rate == pytest.approx(0.38 / (0.0075 + 0.038), rel=1e-6)


def test_simulator_takes_the_profile_scv_and_matches_pollaczek_khinchine() -> None:
    profile = swept(0.5)
    cluster = ClusterConfig(prefill_instances=1, decode_instances=1)
    config = SimConfig(
        cluster=cluster,
        workload=Workload.from_rps(rate_rps=7.0, isl_tokens=1000, osl_tokens=2),
        requests=200_000,
        seed=3,
    )
    r = simulate(profile, config)
    assert r.ttft_s.mean == pytest.approx(pk_ttft_s(7.0, 0.5), rel=0.03)
    # an explicit SCV overrides the profile's: 1 is M/M/1
    exp = ClusterConfig(prefill_instances=1, decode_instances=1, prefill_service_scv=1.0)
    r = simulate(profile, config.model_copy(update={"cluster": exp}))
    assert r.ttft_s.mean == pytest.approx(OVERHEAD_S + mm1_mean_sojourn_s(7.0, 10.0), rel=0.03)


def test_the_wait_is_measured_from_the_idle_ttft_when_the_profile_has_it() -> None:
    # The idle TTFT is 5 ms above overhead + S (e.g. a server cost the overhead step missed):
    # the fit must not read those 5 ms as queueing.
    data = profile_dict([(r, pk_ttft_s(r, 0.5) + 0.005) for r in (3.0, 6.0, 8.0)])
    data["prefill"]["max_throughput"][0]["idle_ttft_s"] = OVERHEAD_S + 0.1 + 0.005  # type: ignore[index]
    fit = fit_engine_scv(parse_profile(data).prefill)
    assert fit is not None
    assert fit.scv == pytest.approx(0.5, abs=1e-9)


def test_one_disturbed_step_does_not_decide_the_fit() -> None:
    rates = (5.0, 6.0, 7.0, 8.0, 9.0)
    sweep = [(r, pk_ttft_s(r, 0.25)) for r in rates]
    sweep[2] = (7.0, pk_ttft_s(7.0, 0.25) * 5)  # a stall during one step
    fit = fit_engine_scv(parse_profile(profile_dict(sweep)).prefill)
    assert fit is not None
    assert fit.scv == pytest.approx(0.25, abs=1e-9)
    assert fit.points == 5
