"""The paper's worked example end to end, hand-derived cases, and monotonicity properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pdplan import SLO, Profile, Workload, default_profile, size_from_instance_tps
from pdplan.errors import InfeasibleSLOError
from pdplan.io import parse_profile
from pdplan.plan.rate import size as plan_size
from pdplan.schema.plan import MODELS, Model, Plan


def size(profile: Profile, workload: Workload, slo: SLO) -> Plan:
    """This module checks the paper's method itself (``auto``, the default, is tested beside
    the other models in test_models_queueing.py)."""
    return plan_size(profile, workload, slo, model="paper")


def test_paper_worked_example(
    paper_profile: Profile, paper_workload: Workload, paper_slo: SLO
) -> None:
    plan = size(paper_profile, paper_workload, paper_slo)
    assert plan.prefill.effective_input_tps == pytest.approx(25075.3, abs=0.1)
    assert plan.prefill.utilization == pytest.approx(25075.3 / 28309, rel=1e-5)
    assert plan.decode.batch == 34
    assert plan.decode.effective_output_tps == pytest.approx(1706.8, abs=0.1)
    # N_p = 83333.3 * 6144 / 6656 / 25075.3 ; N_d = 83333.3 * 512 / 6656 / 1706.8
    assert plan.prefill.instances == pytest.approx(3.0677, abs=1e-3)
    assert plan.decode.instances == pytest.approx(3.7557, abs=1e-3)
    assert plan.pd_ratio == pytest.approx(0.8168, abs=1e-3)
    a = plan.allocation
    assert (a.name, a.gpus, a.meets_target, a.binding) == ("4P4D", 64, True, "decode")
    by_name = {alt.name: alt for alt in plan.alternatives}
    assert set(by_name) == {"3P3D", "3P4D", "4P3D"}
    # 3P4D: 3 * 25075.3 * 6656 / 6144 = 81,495 tok/s = 4.89 M TPM, prefill-bound.
    assert by_name["3P4D"].max_tpm == pytest.approx(4.8897e6, rel=1e-3)
    assert by_name["3P4D"].share_of_target == pytest.approx(0.978, abs=1e-3)
    assert by_name["3P4D"].binding == "prefill"
    # 3P3D: 3 * 1706.8 * 6656 / 512 = 66,566 tok/s = 3.99 M TPM, decode-bound.
    assert by_name["3P3D"].max_tpm == pytest.approx(3.994e6, rel=1e-3)
    assert by_name["3P3D"].binding == "decode"
    assert not any(alt.meets_target for alt in plan.alternatives)
    assert plan.warnings == []


def test_given_instance_throughputs_skip_slo_arithmetic(paper_workload: Workload) -> None:
    plan = size_from_instance_tps(25000, 1700, paper_workload, prefill_gpus=8, decode_gpus=8)
    assert plan.slo is None and plan.prefill.utilization is None
    assert plan.prefill.instances == pytest.approx(83333.33 * 6144 / 6656 / 25000, rel=1e-6)
    assert plan.decode.instances == pytest.approx(83333.33 * 512 / 6656 / 1700, rel=1e-6)
    assert plan.allocation.name == "4P4D"


def test_prefix_cache_discounts_prefill_only(paper_profile: Profile, paper_slo: SLO) -> None:
    w = Workload.from_tpm(isl_tokens=6144, osl_tokens=512, tpm=5e6, prefix_hit_rate=0.5)
    plan = size(paper_profile, w, paper_slo)
    assert plan.prefill.isl_tokens == 3072
    # TPmax measured only at 6144: clamped, and the user is told.
    assert any("ISL 3072" in warning for warning in plan.warnings)
    expected = 28309 - 3072 / 1.9
    assert plan.prefill.effective_input_tps == pytest.approx(expected, rel=1e-9)
    assert plan.prefill.instances == pytest.approx(83333.33 * 3072 / 6656 / expected, rel=1e-6)
    assert plan.decode.instances == pytest.approx(3.7557, abs=1e-3)


def test_interpolated_prefill_and_nearest_decode_curve(profile_dict: dict) -> None:  # type: ignore[type-arg]
    profile = parse_profile(profile_dict)
    w = Workload.from_rps(isl_tokens=2500, osl_tokens=250, rate_rps=1.0)
    plan = size(profile, w, SLO(ttft_s=1.0, tpot_s=0.015))
    # TPmax(2500) = 10000 + (8000 - 10000) * 1500 / 3000 = 9000 tok/s
    assert plan.prefill.max_tps == pytest.approx(9000.0)
    assert plan.prefill.effective_input_tps == pytest.approx(9000 - 2500 / 0.95)
    assert plan.decode.batch == 8
    assert any("not measured at ISL 2500" in warning for warning in plan.warnings)
    assert (
        plan.allocation.gpus
        == plan.allocation.prefill_instances + 2 * plan.allocation.decode_instances
    )


def test_kv_capacity_caps_the_batch(profile_dict: dict) -> None:  # type: ignore[type-arg]
    profile_dict["decode"]["kv_capacity_tokens"] = 9000  # 9000 // 2250 = 4 requests
    profile = parse_profile(profile_dict)
    w = Workload.from_rps(isl_tokens=2000, osl_tokens=250, rate_rps=1.0)
    plan = size(profile, w, SLO(ttft_s=1.0, tpot_s=0.030))
    assert (plan.decode.batch, plan.decode.batch_limit) == (4, "kv_capacity")


def test_infeasible_ttft_raises(paper_profile: Profile, paper_workload: Workload) -> None:
    with pytest.raises(InfeasibleSLOError, match=r"at zero load the mean TTFT is 0\.317 s"):
        size(paper_profile, paper_workload, SLO(ttft_s=0.3, tpot_s=0.02))


PAPER = default_profile()
tpm = st.floats(min_value=1e5, max_value=1e8)
ttft = st.floats(min_value=0.32, max_value=30.0)
tpot = st.floats(min_value=0.0128, max_value=0.05)


plan_model = st.sampled_from(MODELS)


@settings(max_examples=100, deadline=None)  # queueing decode: up to ~0.2 s a plan
@given(load1=tpm, load2=tpm, ttft_s=ttft, tpot_s=tpot, model=plan_model)
def test_more_load_never_means_fewer_instances(
    load1: float, load2: float, ttft_s: float, tpot_s: float, model: Model
) -> None:
    lo, hi = sorted((load1, load2))
    slo = SLO(ttft_s=ttft_s, tpot_s=tpot_s)
    w_lo = Workload.from_tpm(isl_tokens=6144, osl_tokens=512, tpm=lo)
    w_hi = Workload.from_tpm(isl_tokens=6144, osl_tokens=512, tpm=hi)
    a = plan_size(PAPER, w_lo, slo, model=model).allocation
    b = plan_size(PAPER, w_hi, slo, model=model).allocation
    assert b.prefill_instances >= a.prefill_instances
    assert b.decode_instances >= a.decode_instances


@settings(max_examples=100, deadline=None)  # queueing decode: up to ~0.2 s a plan
@given(load=tpm, ttft1=ttft, ttft2=ttft, tpot1=tpot, tpot2=tpot, model=plan_model)
def test_stricter_slo_never_means_fewer_instances(
    load: float, ttft1: float, ttft2: float, tpot1: float, tpot2: float, model: Model
) -> None:
    w = Workload.from_tpm(isl_tokens=6144, osl_tokens=512, tpm=load)
    strict = SLO(ttft_s=min(ttft1, ttft2), tpot_s=min(tpot1, tpot2))
    loose = SLO(ttft_s=max(ttft1, ttft2), tpot_s=max(tpot1, tpot2))
    try:
        a = plan_size(PAPER, w, loose, model=model)
    except InfeasibleSLOError:  # queueing: M/D/1 at the floor; then the strict one too
        with pytest.raises(InfeasibleSLOError):
            plan_size(PAPER, w, strict, model=model)
        return
    try:
        b = plan_size(PAPER, w, strict, model=model)
    except InfeasibleSLOError:
        return  # stricter and infeasible: never fewer instances
    assert b.allocation.prefill_instances >= a.allocation.prefill_instances
    assert b.allocation.decode_instances >= a.allocation.decode_instances
    assert b.prefill.effective_input_tps <= a.prefill.effective_input_tps
    assert b.decode.effective_output_tps <= a.decode.effective_output_tps + 1e-9


@settings(max_examples=100, deadline=None)  # queueing decode: up to ~0.2 s a plan
@given(load=tpm, ttft_s=ttft, tpot_s=tpot, model=plan_model)
def test_plan_is_the_smallest_allocation_that_meets_the_target(
    load: float, ttft_s: float, tpot_s: float, model: Model
) -> None:
    try:
        plan = plan_size(
            PAPER,
            Workload.from_tpm(isl_tokens=6144, osl_tokens=512, tpm=load),
            SLO(ttft_s=ttft_s, tpot_s=tpot_s),
            model=model,
        )
    except InfeasibleSLOError:
        return
    assert plan.allocation.meets_target
    assert plan.allocation.share_of_target >= 1 - 1e-9
    assert not any(alt.meets_target for alt in plan.alternatives)
