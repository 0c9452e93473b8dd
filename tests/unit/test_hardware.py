"""Hardware choice (pdplan.plan.hardware): constructed options with answers known by arithmetic."""

from __future__ import annotations

import itertools

import pytest

from pdplan.errors import ConfigError, InfeasibleSLOError
from pdplan.io import default_profile
from pdplan.plan.hardware import HardwareOption, combine, plan_mix
from pdplan.plan.rate import size
from pdplan.schema.profile import Profile
from pdplan.schema.workload import SLO, Workload

WORKLOAD = Workload.from_tpm(isl_tokens=6144, osl_tokens=512, tpm=5e6)
SLOS = SLO(ttft_s=2.0, tpot_s=0.020)


def _faster_prefill(profile: Profile, factor: float) -> Profile:
    tps = [
        t.model_copy(update={"max_tps": factor * t.max_tps}) for t in profile.prefill.max_throughput
    ]
    return profile.model_copy(
        update={"prefill": profile.prefill.model_copy(update={"max_throughput": tps})}
    )


def test_one_option_per_phase_is_the_plain_plan_priced() -> None:
    p = default_profile()
    mix = plan_mix(
        [HardwareOption(name="h200", profile=p, cost_per_gpu_hour=3.4)],
        [HardwareOption(name="h200", profile=p, cost_per_gpu_hour=3.4)],
        WORKLOAD,
        SLOS,
    )
    plain = size(p, WORKLOAD, SLOS)
    assert mix.objective == "cost"
    assert mix.chosen.allocation == plain.allocation.name
    gpus = (
        plain.allocation.prefill_instances * p.prefill.gpus_per_instance
        + plain.allocation.decode_instances * p.decode.gpus_per_instance
    )
    assert mix.chosen.gpus == gpus
    assert mix.chosen.cost_per_hour == pytest.approx(gpus * 3.4)
    assert mix.warnings == []


def test_a_cheaper_equal_option_wins_and_the_price_is_per_phase() -> None:
    p = default_profile()
    dear = HardwareOption(name="dear", profile=p, cost_per_gpu_hour=4.0)
    cheap = HardwareOption(name="cheap", profile=p, cost_per_gpu_hour=1.0)
    mix = plan_mix([dear, cheap], [dear], WORKLOAD, SLOS)
    assert mix.chosen.prefill == "cheap"
    m, n = mix.chosen.prefill_instances, mix.chosen.decode_instances
    expected = m * p.prefill.gpus_per_instance * 1.0 + n * p.decode.gpus_per_instance * 4.0
    assert mix.chosen.cost_per_hour == pytest.approx(expected)
    assert [c.prefill for c in mix.pairs] == ["cheap", "dear"]  # sorted by cost


def test_twice_the_prefill_throughput_at_less_than_twice_the_price_is_chosen() -> None:
    p = default_profile()
    fast = _faster_prefill(p, 2.0)
    options = [
        HardwareOption(name="base", profile=p, cost_per_gpu_hour=3.0),
        HardwareOption(name="fast", profile=fast, cost_per_gpu_hour=5.0),
    ]
    mix = plan_mix(options, options[:1], WORKLOAD, SLOS, model="paper")
    # paper model, 8 GPUs per instance: 4P4D on base (32 prefill GPUs x 3 = 96 per hour),
    # 2P4D on fast (16 x 5 = 80); the same 4 decode instances (32 x 3 = 96) either way
    g = p.prefill.gpus_per_instance
    assert (g, p.decode.gpus_per_instance) == (8, 8)
    assert (mix.chosen.prefill, mix.chosen.allocation) == ("fast", "2P4D")
    assert mix.chosen.cost_per_hour == pytest.approx(2 * g * 5.0 + 4 * g * 3.0)
    base = next(c for c in mix.pairs if c.prefill == "base")
    assert (base.allocation, base.cost_per_hour) == ("4P4D", pytest.approx(4 * g * 3.0 * 2))


def test_without_every_price_the_objective_is_gpus_with_a_warning() -> None:
    p = default_profile()
    mix = plan_mix(
        [HardwareOption(name="a", profile=p, cost_per_gpu_hour=2.0),
         HardwareOption(name="b", profile=_faster_prefill(p, 2.0))],
        [HardwareOption(name="a", profile=p, cost_per_gpu_hour=2.0)],
        WORKLOAD,
        SLOS,
    )  # fmt: skip
    assert mix.objective == "gpus"
    assert mix.chosen.prefill == "b"  # fewer prefill GPUs
    assert mix.chosen.cost_per_hour is None
    assert any("no price for b" in w for w in mix.warnings)
    with pytest.raises(ConfigError, match="needs a price"):
        plan_mix([HardwareOption(name="b", profile=p)], [HardwareOption(name="b", profile=p)],
                 WORKLOAD, SLOS, max_cost_per_hour=100.0)  # fmt: skip


def test_the_slower_sides_overhead_is_planned() -> None:
    p = default_profile()
    slow = p.model_copy(update={"prefill": p.prefill.model_copy(update={"overhead_s": 0.5})})
    profile, overhead = combine(
        HardwareOption(name="a", profile=p), HardwareOption(name="b", profile=slow)
    )
    assert overhead == 0.5 and profile.prefill.overhead_s == 0.5
    assert profile.prefill.max_throughput == p.prefill.max_throughput  # prefill side of a
    assert profile.decode == slow.decode
    _, overhead = combine(
        HardwareOption(name="b", profile=slow), HardwareOption(name="a", profile=p)
    )
    assert overhead == 0.5


def test_a_budget_below_the_smallest_mix_is_infeasible_and_names_it() -> None:
    p = default_profile()
    option = HardwareOption(name="h200", profile=p, cost_per_gpu_hour=3.0)
    smallest = plan_mix([option], [option], WORKLOAD, SLOS).chosen
    with pytest.raises(InfeasibleSLOError) as info:
        plan_mix([option], [option], WORKLOAD, SLOS, gpu_budget=smallest.gpus - 1)
    assert info.value.field == "budget"
    assert info.value.achievable == smallest.gpus
    assert smallest.allocation in str(info.value)
    fits = plan_mix([option], [option], WORKLOAD, SLOS, gpu_budget=smallest.gpus)
    assert fits.chosen == smallest
    with pytest.raises(InfeasibleSLOError):
        plan_mix([option], [option], WORKLOAD, SLOS,
                 max_cost_per_hour=(smallest.cost_per_hour or 0) * 0.99)  # fmt: skip


def test_the_pareto_front_is_non_dominated_and_meets_the_target() -> None:
    p = default_profile()
    options = [
        HardwareOption(name="base", profile=p, cost_per_gpu_hour=3.0),
        HardwareOption(name="fast", profile=_faster_prefill(p, 1.6), cost_per_gpu_hour=4.5),
    ]
    mix = plan_mix(options, options[:1], WORKLOAD, SLOS)
    front = mix.pareto
    assert len(front) >= 2 and all(c.meets_target for c in front)
    costs = [c.cost_per_hour or 0 for c in front]
    tps = [c.max_total_tps for c in front]
    assert costs == sorted(costs) and all(b > a for a, b in itertools.pairwise(tps))
    assert front[0].cost_per_hour == mix.chosen.cost_per_hour
    # nothing rated is cheaper-or-equal and faster than a front member
    for c in front:
        dominated = [
            o for o in mix.pairs
            if (o.cost_per_hour or 0) < (c.cost_per_hour or 0) and o.max_total_tps > c.max_total_tps
        ]  # fmt: skip
        assert dominated == []


def test_no_pair_meeting_the_slos_says_why() -> None:
    p = default_profile()
    option = HardwareOption(name="h200", profile=p)
    with pytest.raises(InfeasibleSLOError, match="no pair"):
        plan_mix([option], [option], WORKLOAD, SLO(ttft_s=2.0, tpot_s=0.001))
    with pytest.raises(ConfigError, match="at least one"):
        plan_mix([], [option], WORKLOAD, SLOS)
