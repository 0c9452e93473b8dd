"""Shared fixtures: the paper's worked example and small profile files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from pdplan import SLO, Profile, Workload, default_profile

DATA = Path(__file__).parent / "data"


@pytest.fixture
def paper_profile() -> Profile:
    return default_profile()


@pytest.fixture
def paper_workload() -> Workload:
    return Workload.from_tpm(isl_tokens=6144, osl_tokens=512, tpm=5e6)


@pytest.fixture
def paper_slo() -> SLO:
    return SLO(ttft_s=2.0, tpot_s=0.020)


@pytest.fixture
def profile_dict() -> dict[str, Any]:
    """A small valid profile as plain data, for tests that break one field."""
    loaded: dict[str, Any] = yaml.safe_load((DATA / "small-profile.yaml").read_text())
    return loaded


@pytest.fixture
def write_yaml(tmp_path: Path):  # type: ignore[no-untyped-def]
    def write(data: Any, name: str = "profile.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(data, explicit_end=True))
        return path

    return write
