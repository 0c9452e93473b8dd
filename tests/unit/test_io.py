"""Profile files: round trips and one-line errors that name the field and value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pdplan import ConfigError, Profile, default_profile, load_profile, save_profile


def test_default_profile_is_the_paper(paper_profile: Profile) -> None:
    assert paper_profile.metadata.model == "DeepSeek-V3.1-Terminus"
    assert "2603.04716" in (paper_profile.metadata.source or "")
    assert paper_profile.prefill.max_throughput[0].max_tps == 28309


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_round_trip(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"p{suffix}"
    save_profile(default_profile(), path)
    assert load_profile(path) == default_profile()


def test_points_are_sorted(profile_dict: dict[str, Any], write_yaml: Any) -> None:
    profile_dict["prefill"]["max_throughput"].reverse()
    profile = load_profile(write_yaml(profile_dict))
    assert [p.isl_tokens for p in profile.prefill.max_throughput] == [1000, 4000]


def _break(d: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    for part in parents:
        d = d[int(part)] if isinstance(d, list) else d[part]  # type: ignore[index]
    if value is KeyError:
        del d[leaf]
    else:
        d[leaf] = value


@pytest.mark.parametrize(
    ("path", "value", "needle"),
    [
        (
            "prefill.overhead_s",
            -1,
            "prefill.overhead_s: Input should be greater than or equal to 0",
        ),
        ("prefill.max_throughput.0.max_tps", 0, "prefill.max_throughput.0.max_tps"),
        ("prefill.gpus_per_instance", KeyError, "prefill.gpus_per_instance: Field required"),
        ("decode.curves.0.points.1.tpot_ms", "fast", "decode.curves.0.points.1.tpot_ms"),
        ("decode.curves.0.points.1.batch", 1, "batch values must be unique"),
        ("decode.kv_capacity_tokens", -5, "decode.kv_capacity_tokens"),
        ("schema_version", 3, "schema_version: Input should be 2"),
        ("prefill.overhead", 0.1, "prefill.overhead: Extra inputs are not permitted"),
        ("prefill.max_throughput.0.max_tps", float("nan"), "finite number"),
    ],
)
def test_bad_field_is_named(
    profile_dict: dict[str, Any], write_yaml: Any, path: str, value: Any, needle: str
) -> None:
    _break(profile_dict, path, value)
    target = write_yaml(profile_dict)
    with pytest.raises(ConfigError) as info:
        load_profile(target)
    message = str(info.value)
    assert message.startswith(str(target))
    assert needle in message
    assert "\n" not in message


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read profile"):
        load_profile(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("prefill: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_profile(bad)
    bad.write_text("- just\n- a list\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_profile(bad)
