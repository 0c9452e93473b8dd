"""The queueing models beyond the paper: M/G/1, pooled M/G/c, percentiles, decode fluctuation."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pdplan import SLO, Exponential, InfeasibleSLOError, Profile, Workload, size
from pdplan.errors import ConfigError
from pdplan.queueing import md1_mean_sojourn_s, mmc_mean_sojourn_s
from pdplan.queueing.decode_batch import fluctuating_max_rate_rps, fluctuating_tpot_stat_s
from pdplan.queueing.sojourn import max_rate_rps, sojourn_stat_s


def test_mg1_with_zero_scv_is_md1() -> None:
    assert sojourn_stat_s("mg1", 6.0, 0.1, 0.0, "mean") == pytest.approx(
        md1_mean_sojourn_s(6.0, 0.1)
    )


def test_pooled_mm1_kind_is_erlang_c() -> None:
    assert sojourn_stat_s("mm1", 32.0, 0.1, 1.0, "mean", servers=4) == pytest.approx(
        mmc_mean_sojourn_s(32.0, 10.0, 4)
    )


def test_max_rate_inverts_the_statistic() -> None:
    for kind, scv, stat in [("mm1", 1.0, "p90"), ("mg1", 0.0, "mean"), ("mg1", 2.0, "p99")]:
        rate = max_rate_rps(kind, 0.1, scv, 1.5, stat)  # type: ignore[arg-type]
        assert rate > 0
        assert sojourn_stat_s(kind, rate, 0.1, scv, stat) == pytest.approx(1.5, rel=1e-6)  # type: ignore[arg-type]


def test_variable_service_time_spreads_the_percentile_at_zero_load() -> None:
    assert sojourn_stat_s("mg1", 0.0, 0.1, 0.0, "p90") == pytest.approx(0.1)
    # exponential service alone: p90 = 0.1 * ln 10 = 0.23 s (gamma fit within 2 %)
    assert sojourn_stat_s("mg1", 0.0, 0.1, 1.0, "p90") == pytest.approx(0.2303, rel=0.02)


def test_budget_below_service_time_gives_zero() -> None:
    assert max_rate_rps("mg1", 0.1, 0.0, 0.05, "mean") == 0.0


@given(budget=st.floats(min_value=0.12, max_value=5.0), c=st.integers(min_value=1, max_value=16))
def test_pooling_never_serves_less(budget: float, c: int) -> None:
    pooled = max_rate_rps("mg1", 0.1, 0.0, budget, "mean", servers=c)
    independent = c * max_rate_rps("mg1", 0.1, 0.0, budget, "mean")
    assert pooled >= independent * (1 - 1e-9)


def test_poisson_decode_is_below_the_paper_rule_for_convex_tpot() -> None:
    def tpot(b: int) -> float:
        return 0.010 + 0.0001 * b**1.5

    max_b, osl, slo = 200, 256, 0.014
    b_star = max(b for b in range(1, max_b + 1) if tpot(b) <= slo)
    paper_rps = b_star / tpot(b_star) / osl
    fluct = fluctuating_max_rate_rps(tpot, max_b, osl, slo, "mean")
    assert 0 < fluct < paper_rps
    assert fluctuating_tpot_stat_s(fluct, tpot, max_b, osl, "mean") <= slo + 1e-9
    assert fluctuating_tpot_stat_s(fluct, tpot, max_b, osl, "p90") > slo
    assert math.isinf(fluctuating_tpot_stat_s(10 * paper_rps, tpot, max_b, osl, "mean"))


def test_queueing_model_on_the_worked_example(
    paper_profile: Profile, paper_workload: Workload, paper_slo: SLO
) -> None:
    paper = size(paper_profile, paper_workload, paper_slo, model="paper")
    queueing = size(paper_profile, paper_workload, paper_slo, model="queueing")
    auto = size(paper_profile, paper_workload, paper_slo, model="auto")
    # Fixed ISL: M/D/1 waits half as long as M/M/1, so 3 prefill instances suffice.
    assert (queueing.model, auto.model) == ("queueing", "auto")
    assert queueing.allocation.name == "3P4D"
    # auto never assumes less variability than exponential: the paper's M/M/1 for fixed ISL.
    assert auto.prefill.instances == pytest.approx(paper.prefill.instances, rel=1e-6)
    assert queueing.prefill.instances < paper.prefill.instances
    # the fluctuating batch costs decode capacity: a little more than the held B*
    assert 1 < queueing.decode.instances / paper.decode.instances < 1.03
    exponential = size(
        paper_profile,
        paper_workload.model_copy(update={"isl": Exponential(mean_tokens=6144)}),
        paper_slo,
        model="queueing",
    )
    # Exponential ISL makes M/G/1 equal to the paper's M/M/1.
    assert exponential.prefill.instances == pytest.approx(paper.prefill.instances, rel=1e-6)


def test_percentile_and_pooled(paper_profile: Profile, paper_workload: Workload) -> None:
    mean = size(paper_profile, paper_workload, SLO(ttft_s=2, tpot_s=0.02), model="queueing")
    p99 = size(
        paper_profile, paper_workload, SLO(ttft_s=2, tpot_s=0.02, ttft_stat="p99"), model="queueing"
    )
    assert p99.prefill.instances > mean.prefill.instances
    pooled = size(
        paper_profile,
        paper_workload,
        SLO(ttft_s=2, tpot_s=0.02, ttft_stat="p99"),
        model="queueing",
        prefill_routing="pooled",
    )
    assert pooled.prefill.instances == int(pooled.prefill.instances)
    assert pooled.allocation.prefill_instances <= p99.allocation.prefill_instances


def test_paper_p90_uses_the_exact_exponential_tail(
    paper_profile: Profile, paper_workload: Workload
) -> None:
    plan = size(
        paper_profile, paper_workload, SLO(ttft_s=2, tpot_s=0.02, ttft_stat="p90"), model="paper"
    )
    # M/M/1 p90 sojourn = ln(10) / (mu - lambda) = 1.9 s -> lambda = mu - ln(10) / 1.9
    mu = 28309 / 6144
    assert plan.prefill.effective_input_tps == pytest.approx(
        (mu - math.log(10) / 1.9) * 6144, rel=1e-6
    )


def test_percentile_ttft_infeasible_says_what_is_achievable(
    paper_profile: Profile, paper_workload: Workload
) -> None:
    with pytest.raises(InfeasibleSLOError, match="p99 TTFT SLO 1 s") as info:
        size(paper_profile, paper_workload, SLO(ttft_s=1.0, tpot_s=0.02, ttft_stat="p99"))
    assert info.value.achievable == pytest.approx(0.1 - math.log(0.01) * 6144 / 28309)


def test_paper_model_refuses_routing_it_does_not_model(
    paper_profile: Profile, paper_workload: Workload, paper_slo: SLO
) -> None:
    with pytest.raises(ConfigError, match="use --plan-model queueing"):
        size(paper_profile, paper_workload, paper_slo, model="paper", prefill_routing="pooled")


def test_percentile_tpot_warns_without_measured_percentiles(
    paper_profile: Profile, paper_workload: Workload
) -> None:
    plan = size(paper_profile, paper_workload, SLO(ttft_s=2, tpot_s=0.02, tpot_stat="p90"))
    assert any("no measured p90 TPOT" in w for w in plan.warnings)


def test_measured_decode_throughput_caps_batch_over_tpot(
    profile_dict: dict,
    paper_slo: SLO,  # type: ignore[type-arg]
) -> None:
    from pdplan.io import parse_profile

    for point in profile_dict["decode"]["curves"][0]["points"]:
        point["output_tps"] = 100.0  # far below batch / TPOT (e.g. 8 / 15 ms = 533)
    profile = parse_profile(profile_dict)
    w = Workload.from_rps(isl_tokens=2000, osl_tokens=250, rate_rps=1.0)
    slo = SLO(ttft_s=1.0, tpot_s=0.015)
    paper = size(profile, w, slo, model="paper")
    auto = size(profile, w, slo, model="auto")
    assert paper.decode.effective_output_tps == pytest.approx(8 / 0.015)  # unchanged
    assert auto.decode.effective_output_tps == pytest.approx(100.0)
    assert any("measured decode throughput" in x for x in auto.warnings)


def _convex_decode_profile() -> Profile:
    """Fast prefill, a convex TPOT(b) = 8 ms + 0.05 b^1.3 ms (as in model_accuracy)."""
    from pdplan.io import parse_profile

    points = [
        {"batch": b, "tpot_ms": 8.0 + 0.05 * b**1.3} for b in (1, 2, 4, 8, 16, 32, 64, 128, 256)
    ]
    return parse_profile(
        {
            "schema_version": 1,
            "prefill": {
                "gpus_per_instance": 1,
                "overhead_s": 0.0,
                "max_throughput": [{"isl_tokens": 512, "max_tps": 1e7}],
            },
            "decode": {
                "gpus_per_instance": 1,
                "curves": [{"isl_tokens": 512, "osl_tokens": 128, "points": points}],
            },
        }
    )


def test_one_decode_instance_fluctuates_under_any_routing() -> None:
    """One decode instance fed by Poisson arrivals cannot hold its batch at B*: the simulator
    misses the TPOT SLO at the paper's rate and meets it at the fluctuation model's."""
    from pdplan.sim import ClusterConfig, SimConfig, simulate

    profile = _convex_decode_profile()
    slo = SLO(ttft_s=100.0, tpot_s=0.012)
    rates = {}
    for model in ("paper", "auto"):
        w = Workload.from_rps(isl_tokens=512, osl_tokens=128, rate_rps=10.0)
        plan = size(profile, w, slo, model=model)  # type: ignore[arg-type]
        assert plan.allocation.decode_instances == 1
        rates[model] = plan.decode.effective_output_tps / 128
    assert rates["auto"] < rates["paper"] * 0.99

    def mean_tpot_s(rate: float) -> float:
        config = SimConfig(
            cluster=ClusterConfig(prefill_instances=1, decode_instances=1),
            workload=Workload.from_rps(isl_tokens=512, osl_tokens=128, rate_rps=rate),
            requests=20_000,
            seed=5,
        )
        result = simulate(profile, config)
        assert result.tpot_s is not None
        return result.tpot_s.mean

    assert mean_tpot_s(rates["paper"]) > slo.tpot_s
    assert mean_tpot_s(rates["auto"] * 0.98) <= slo.tpot_s
    # Between the two rates auto needs a second instance; the paper's rule says one.
    w = Workload.from_rps(
        isl_tokens=512, osl_tokens=128, rate_rps=(rates["auto"] + rates["paper"]) / 2
    )
    assert size(profile, w, slo, model="paper").allocation.decode_instances == 1
    auto = size(profile, w, slo, model="auto")
    assert auto.allocation.decode_instances == 2
    assert any("fluctuates" in x for x in auto.warnings)


def test_rate_allocation_rates_any_allocation_like_size() -> None:
    from pdplan import rate_allocation

    profile = _convex_decode_profile()
    slo = SLO(ttft_s=100.0, tpot_s=0.012)
    w = Workload.from_rps(isl_tokens=512, osl_tokens=128, rate_rps=60.0)
    plan = size(profile, w, slo)
    for a in [plan.allocation, *plan.alternatives]:
        again = rate_allocation(profile, w, slo, a.prefill_instances, a.decode_instances)
        assert again.max_total_tps == pytest.approx(a.max_total_tps)
    # The batch fluctuates: below the held batch, most on one instance (nothing to balance).
    one = rate_allocation(profile, w, slo, 1, 1).decode_max_total_tps
    two = rate_allocation(profile, w, slo, 1, 2).decode_max_total_tps
    paper_one = rate_allocation(profile, w, slo, 1, 1, model="paper").decode_max_total_tps
    assert one < paper_one and 2 * one < two < 2 * paper_one
