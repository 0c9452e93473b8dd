"""ServeGen client pools as a workload source: the hand-made pool of tests/data/servegen
(its README says what it holds) generated reproducibly, window by window, and refused cleanly
when a file is not what ServeGen writes."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from tests.cli_helpers import run

from pdplan.errors import ConfigError
from pdplan.io import load_servegen, load_trace
from pdplan.traffic.servegen import generate

DATA = Path(__file__).parents[1] / "data"
POOL = DATA / "servegen" / "pool"


def test_the_pool_generates_each_window_at_its_rate_with_its_lengths() -> None:
    pool = load_servegen(POOL)
    assert [c.client for c in pool.clients] == [0, 1] and pool.skipped == (2,)
    trace = generate(pool, rate_scale=1.0, start_s=0, end_s=1800, seed=7)
    t = trace.arrival_s
    counts = [sum(1 for x in t if k * 600 <= x < (k + 1) * 600) for k in range(3)]
    # ServeGen's draw: ceil(rate x 600) gaps rescaled to fill the window, so exactly
    # rate x 600 arrivals per client and window
    assert counts == [(2 + 1) * 600, (4 + 1) * 600, 2 * 600]
    pairs = list(zip(t, trace.isl_tokens, strict=True))
    isl_by_window = [{i for x, i in pairs if k * 600 <= x < (k + 1) * 600} for k in range(3)]
    assert isl_by_window[0] == {100, 300, 2000} and isl_by_window[1] == {100, 300, 2000}
    assert isl_by_window[2] == {2000}
    assert set(trace.osl_tokens) == {10, 50, 70}
    again = generate(pool, rate_scale=1.0, start_s=0, end_s=1800, seed=7)
    assert again == trace  # reproducible
    other = generate(pool, rate_scale=1.0, start_s=0, end_s=1800, seed=8)
    assert other.arrival_s != trace.arrival_s


def test_a_slice_and_a_rate_scale() -> None:
    pool = load_servegen(POOL)
    part = generate(pool, rate_scale=0.5, start_s=600, end_s=1200, seed=1)
    assert part.arrival_s[0] >= 0 and part.arrival_s[-1] < 600
    assert len(part) == (2 + 0.5) * 600


@pytest.mark.parametrize(
    ("name", "text", "needle"),
    [
        ("chunk-0-trace.csv", "0,2.0,1.0,Poisson,1,1\n", "arrival pattern 'Poisson'"),
        ("chunk-0-trace.csv", "0,2.0,1.0,Gamma,1\n", "expected 6 fields"),
        ("chunk-0-trace.csv", "600,1,1,Gamma,1,1\n0,1,1,Gamma,1,1\n", "in time order"),
        ("chunk-0-dataset.json", '{"0": {"input_tokens": "{1: 2.0}", "output_tokens": "{1: 1}"}}',
         "probability of 1 tokens is '2.0'"),
        ("chunk-0-dataset.json", '{"0": {"input_tokens": "__import__(1)", "output_tokens": "{}"}}',
         "not a {tokens: probability} literal"),
    ],
)  # fmt: skip
def test_a_malformed_file_is_refused_naming_it(
    tmp_path: Path, name: str, text: str, needle: str
) -> None:
    for f in POOL.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    (tmp_path / name).write_text(text)
    with pytest.raises(ConfigError, match=r".*") as info:
        load_servegen(tmp_path)
    assert needle in str(info.value) and name.split("-")[0] in str(info.value)


def test_a_folder_that_is_not_a_pool_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a ServeGen client pool"):
        load_servegen(tmp_path)


def test_the_cli_reads_a_pool_and_names_the_clients_left_out(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(
        capsys, "trace", str(POOL), "--trace-slice", "0:1800", "--seed", "7", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["requests"] == 6000
    assert "client(s) 2 have no chunk-N-dataset.json: left out" in err
    code, _, err = run(capsys, "trace", str(DATA / "traces" / "pdplan.csv"), "--rate-scale", "2")
    assert code == 1 and "--rate-scale applies to a ServeGen folder" in err


def test_a_gzip_trace_reads_as_the_plain_one(tmp_path: Path) -> None:
    plain = DATA / "traces" / "mooncake.jsonl"
    zipped = tmp_path / "mooncake.jsonl.gz"
    zipped.write_bytes(gzip.compress(plain.read_bytes()))
    assert load_trace(zipped).arrival_s == load_trace(plain).arrival_s
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(zipped.read_bytes()[:-10])
    with pytest.raises(ConfigError, match="not a whole gzip file"):
        load_trace(cut)
