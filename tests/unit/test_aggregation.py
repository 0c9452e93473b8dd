"""Aggregated against disaggregated: verdicts on constructed profiles whose answer is known,
the schema migration, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli_helpers import run

from pdplan.io import default_profile, load_profile, save_profile
from pdplan.plan.modes import _verdict, compare_modes
from pdplan.plan.sweep_gaps import sweep_gaps
from pdplan.schema.aggregated import AggregatedProfile, AggregatedRatePoint, StepTimeModel
from pdplan.schema.profile import Profile
from pdplan.schema.workload import SLO, Workload

DATA = Path(__file__).parents[1] / "data"
WORKLOAD = Workload.from_tpm(isl_tokens=6144, osl_tokens=512, tpm=5e6)
SLO_PAPER = SLO(ttft_s=2.0, tpot_s=0.020)


def with_aggregated(**step: float) -> Profile:
    agg = AggregatedProfile(
        gpus_per_instance=8,
        max_batched_tokens=16384,
        max_seqs=512,
        step=StepTimeModel(**{"base_ms": 12, "prefill_token_us": 36, "decode_seq_us": 200, **step}),
    )
    return default_profile().model_copy(update={"aggregated": agg})


def test_an_aggregated_instance_slower_than_the_tpot_slo_when_idle_loses() -> None:
    c = compare_modes(with_aggregated(base_ms=25), WORKLOAD, SLO_PAPER, sensitivity=False)
    assert c.aggregated is None and "idle aggregated instance" in (c.aggregated_infeasible or "")
    assert c.verdict == "disaggregated" and c.margin is None


def test_a_ttft_below_the_pd_overhead_leaves_only_aggregated() -> None:
    # the P/D path adds 100 ms before the first token; an aggregated instance does not
    slo = SLO(ttft_s=0.30, tpot_s=0.020)
    profile = with_aggregated(prefill_token_us=10, base_ms=5)
    c = compare_modes(profile, WORKLOAD.model_copy(update={"total_tps": 5_000.0}), slo,
                      sensitivity=False)  # fmt: skip
    assert c.disaggregated is None and c.aggregated is not None
    assert c.verdict == "aggregated"


def test_a_much_faster_aggregated_engine_wins_by_its_margin() -> None:
    c = compare_modes(with_aggregated(base_ms=2, prefill_token_us=4, decode_seq_us=20),
                      WORKLOAD, SLO_PAPER)  # fmt: skip
    assert c.aggregated is not None and c.disaggregated is not None
    assert c.verdict == "aggregated"
    assert c.margin == pytest.approx(c.disaggregated.allocation.gpus / c.aggregated.gpus - 1)
    assert c.sensitivity and not c.sensitive_to  # a large margin: no single move flips it


def test_the_verdict_rule() -> None:
    assert _verdict(64, 64) == ("tie", 0.0)
    assert _verdict(64, 66)[0] == "tie"  # 3 %: inside TIE_SHARE
    assert _verdict(80, 64) == ("disaggregated", 0.25)
    assert _verdict(None, None) == ("neither", None)


def test_a_close_call_names_what_it_is_sensitive_to() -> None:
    profile = with_aggregated()
    base = compare_modes(profile, WORKLOAD, SLO_PAPER)
    assert base.verdict == "disaggregated" and base.margin is not None
    assert base.margin < 0.5
    # moving the aggregated step's prompt cost or the disaggregated TPmax by 20 % matters
    assert base.sensitive_to, [(s.input, s.verdict, s.margin) for s in base.sensitivity]


def test_version_1_profiles_migrate_and_save_as_version_2(tmp_path: Path) -> None:
    old = load_profile(DATA / "small-profile.yaml")  # schema_version: 1 on disk
    assert old.schema_version == 2 and old.aggregated is None
    path = tmp_path / "p.yaml"
    save_profile(with_aggregated(), path)
    assert "schema_version: 2" in path.read_text()
    assert load_profile(path).aggregated == with_aggregated().aggregated


def test_cli_compare_and_aggregated(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    save_profile(with_aggregated(), path)
    code, out, err = run(capsys, "size", "--profile", str(path), "--mode", "compare", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["verdict"] == "disaggregated" and data["aggregated"]["instances"] >= 1
    assert data["disaggregated"]["allocation"]["gpus"] == 64
    assert isinstance(data["sensitive_to"], list)
    code, out, err = run(capsys, "size", "--profile", str(path), "--mode", "compare")
    assert code == 0 and "Verdict: disaggregated" in " ".join(out.split())
    code, out, err = run(capsys, "size", "--profile", str(path), "--mode", "aggregated")
    assert code == 0 and "aggregated instance(s)" in out


def with_sweep(profile: Profile, slower: float) -> Profile:
    """The profile with a measured sweep point at half its stable rate, ``slower`` times the
    simulated TTFT and TPOT."""
    agg = profile.aggregated
    assert agg is not None
    rate = 3.0
    gap = sweep_gaps(
        agg.model_copy(update={"sweep": [AggregatedRatePoint(
            isl_tokens=6144, osl_tokens=512, rate_rps=rate, requests=500, ttft_mean_s=1.0,
            ttft_p90_s=2.0, tpot_mean_ms=10.0)]}),
    )[0]  # fmt: skip
    assert gap.tpot_mean_sim_ms is not None
    point = AggregatedRatePoint(
        isl_tokens=6144, osl_tokens=512, rate_rps=rate, requests=500,
        ttft_mean_s=gap.ttft_mean_sim_s * slower, ttft_p90_s=gap.ttft_mean_sim_s * slower * 2,
        tpot_mean_ms=gap.tpot_mean_sim_ms * slower,
    )  # fmt: skip
    return profile.model_copy(update={"aggregated": agg.model_copy(update={"sweep": [point]})})


def test_a_sweep_slower_than_the_model_warns_that_the_plan_may_over_promise(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    honest = compare_modes(with_sweep(with_aggregated(), 1.0), WORKLOAD, SLO_PAPER,
                           sensitivity=False, simulate_requests=2000)  # fmt: skip
    assert len(honest.sweep_check) == 1 and honest.sweep_warning is None
    assert abs(honest.sweep_check[0].worst_gap) < 1e-9  # the same seed and requests
    slow = compare_modes(with_sweep(with_aggregated(), 1.5), WORKLOAD, SLO_PAPER,
                         sensitivity=False, simulate_requests=2000)  # fmt: skip
    assert slow.sweep_check[0].tpot_gap == pytest.approx(0.5, abs=0.02)
    assert slow.sweep_warning is not None and "may over-promise" in slow.sweep_warning
    path = tmp_path / "p.yaml"
    save_profile(with_sweep(with_aggregated(), 1.5), path)
    code, out, err = run(capsys, "size", "--profile", str(path), "--mode", "compare", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert "may over-promise" in data["sweep_warning"] and len(data["sweep_check"]) == 1
    code, out, err = run(capsys, "size", "--profile", str(path), "--mode", "compare")
    assert code == 0 and "may over-promise" in " ".join(out.split())


def test_cli_refusals(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, "size", "--mode", "compare")
    assert code == 1 and out == "" and "no aggregated section" in err
    path = tmp_path / "p.yaml"
    save_profile(with_aggregated(), path)
    code, out, err = run(capsys, "size", "--profile", str(path), "--mode", "aggregated",
                         "--verify")  # fmt: skip
    assert code == 1 and "--mode aggregated and --verify" in err


def test_cli_compare_on_a_trace_replays_both_ways(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "p.yaml"
    save_profile(with_aggregated(), path)
    trace = DATA / "traces" / "azure-2023.csv"
    code, out, err = run(capsys, "size", "--profile", str(path), "--mode", "compare", "--trace",
                         str(trace), "--trace-rps", "5", "--json")  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    replay, counted = data["disaggregated_replay"], data["aggregated_simulated"]
    assert replay["meets_slo"] and counted["instances"] >= 1
    a, d = counted["gpus"], replay["gpus"]
    expected = "tie" if max(a, d) / min(a, d) - 1 < 0.05 else (
        "aggregated" if a < d else "disaggregated")  # fmt: skip
    assert data["verdict"] == expected
