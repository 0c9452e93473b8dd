"""`pdplan profile aggregated` against the fake engine: the step-time fit reads the engine's
own costs back (the fake decodes a step in 2 ms + 0.2 ms per active request and prefills at
100k tokens/s), the sweep runs, the section joins an existing profile."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tests.cli_helpers import run
from tests.fakes.openai_server import FakeEngine, FakeServer

from pdplan.bench.records import read_part
from pdplan.io import load_profile
from pdplan.schema.parts import AggregatedPart

DATA = Path(__file__).parents[1] / "data"
ARGS = ["--isl", "400", "--osl", "16", "--max-batched-tokens", "512", "--max-seqs", "16",
        "--batch", "1,4,8", "--loads", "0.3", "--sweep-requests", "20",
        "--min-duration", "0s"]  # fmt: skip


def test_the_fit_reads_the_engines_costs_and_joins_the_profile(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with FakeServer(FakeEngine(prefill_tps=100_000.0)) as server:
        code, out, err = run(capsys, "profile", "aggregated", "--url", server.url, *ARGS,
                             "--out", str(tmp_path / "a"))  # fmt: skip
        assert code == 0, err
        part = read_part(tmp_path / "a", "aggregated", AggregatedPart)
        assert part is not None and "part written" in out
        step = part.aggregated.step
        # decode steps: 2 ms + 0.2 ms per request (a loaded machine only adds to both)
        assert 1.5 < step.base_ms < 6 and 120 < step.decode_seq_us < 800
        assert 5 < step.prefill_token_us < 40  # 10 us per prompt token
        assert step.fit_points == 3 + 3 + 3 and step.fit_error is not None
        assert len(part.aggregated.sweep) == 1 and part.aggregated.sweep[0].requests == 20
        # with a profile in --out, the section is added to it
        shutil.copy(DATA / "small-profile.yaml", tmp_path / "a" / "profile.yaml")
        code, out, err = run(capsys, "profile", "aggregated", "--url", server.url, *ARGS,
                             "--out", str(tmp_path / "a"))  # fmt: skip
        assert code == 0, err
    profile = load_profile(tmp_path / "a" / "profile.yaml")
    assert profile.aggregated is not None and profile.schema_version == 2
    assert profile.aggregated.max_batched_tokens == 512 and profile.aggregated.max_seqs == 16
