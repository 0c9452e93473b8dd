"""Bad input, across every command: one clear line naming the field, the value and what is
allowed, a non-zero exit, no traceback, and nothing written. Each case stands for a class
(issue: "No wrong answer with exit 0"); the fuzz tests (test_fuzz_parsers.py) try the rest of
each class."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from pdplan.cli import EXIT_BAD_INPUT, EXIT_INFEASIBLE, EXIT_USAGE
from pdplan.io import WRITTEN_BY
from tests.cli_helpers import run
from tests.fakes.openai_server import FakeEngine, FakeServer

DATA = Path(__file__).parent / "data"
PROFILE = yaml.safe_load((DATA / "small-profile.yaml").read_text())
TRACE = str(DATA / "traces" / "pdplan.csv")
IMPORTS = str(DATA / "imports" / "vllm-bench")


def _profile(tmp: Path, name: str, edit: Any) -> str:
    data = json.loads(json.dumps(PROFILE))
    edit(data)
    path = tmp / name
    path.write_text(yaml.safe_dump(data, explicit_end=True))
    return str(path)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("inputs")
    binary = tmp / "binary.bin"
    binary.write_bytes(b"\xff\xfe\x00\x81binary\x00\x9c")
    latin = tmp / "latin1.csv"
    latin.write_bytes("arrival_s,isl_tokens,osl_tokens\n0,100,10\n# caf\xe9\n".encode("latin-1"))
    whole = (DATA / "small-profile.yaml").read_text()
    written = f"{WRITTEN_BY} (schema version 1)\n{whole}"  # as pdplan writes profiles
    truncated = tmp / "truncated.yaml"  # cut at a line boundary: the last decode point lost
    truncated.write_text("".join(written.splitlines(keepends=True)[:-2]))
    duplicate = tmp / "duplicate.yaml"  # a key written twice: YAML would keep the last
    duplicate.write_text(
        whole.replace("  overhead_s: 0.05\n", "  overhead_s: 0.05\n  overhead_s: 5\n")
    )

    def points(data: dict[str, Any]) -> list[dict[str, Any]]:
        return data["decode"]["curves"][0]["points"]  # type: ignore[no-any-return]

    def set_point(key: str, value: Any, index: int = -1) -> Any:
        return lambda d: points(d)[index].__setitem__(key, value)

    def set_prefill(key: str, value: Any) -> Any:
        return lambda d: d["prefill"].__setitem__(key, value)

    def set_tpmax(value: Any) -> Any:
        return lambda d: d["prefill"]["max_throughput"][0].__setitem__("max_tps", value)

    long_trace = tmp / "long.csv"  # one request longer than the profile's KV cache (100,000)
    long_trace.write_text("arrival_s,isl_tokens,osl_tokens\n0,100,10\n1,150000,10\n2,200,20\n")
    twice = tmp / "twice.csv"  # a column twice in the header
    twice.write_text("arrival_s,isl_tokens,osl_tokens,isl_tokens\n0,100,10,5\n1,200,20,6\n")
    hashes = tmp / "hashes.jsonl"  # 2 block ids for 2,000 input tokens (4 blocks)
    hashes.write_text(
        '{"timestamp": 0, "input_length": 100, "output_length": 10, "hash_ids": [1]}\n'
        '{"timestamp": 3000, "input_length": 2000, "output_length": 10, "hash_ids": [1, 2]}\n'
    )
    return {
        "twice": str(twice),
        "hashes": str(hashes),
        "long_trace": str(long_trace),
        "small": str(DATA / "small-profile.yaml"),
        "binary": str(binary),
        "latin1": str(latin),
        "truncated": str(truncated),
        "duplicate": str(duplicate),
        "output_tps": _profile(tmp, "output.yaml", set_point("output_tps", 1e-9)),
        "string_tps": _profile(tmp, "string.yaml", set_tpmax("28309")),
        "bool_overhead": _profile(tmp, "bool.yaml", set_prefill("overhead_s", True)),
        "huge_tps": _profile(tmp, "huge.yaml", set_tpmax(1e308)),
        "decreasing": _profile(tmp, "decreasing.yaml", set_point("tpot_ms", 30, 0)),
        "tpot_seconds": _profile(tmp, "tpot-seconds.yaml", set_point("tpot_ms", 0.015, 0)),
    }


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer(FakeEngine()) as s:
        yield s


# (arguments, exit code, a part of the one line); {name} are the fixture files, {url} the
# fake server, {tmp} the run's own empty directory
CASES: list[tuple[list[str], int, str]] = [
    # SLOs no allocation meets
    (["capacity", "--tpot", "10ms"], EXIT_INFEASIBLE, "simulated mean TPOT is 12.8 ms"),
    (["capacity", "--ttft", "300ms"], EXIT_INFEASIBLE, "cannot be met by 3P4D at any load"),
    (["size", "--profile", "{decreasing}", "--isl", "2000", "--osl", "250", "--tpot", "20ms"],
     EXIT_INFEASIBLE, "TPOT 15 ms was measured at batch 8"),
    # requests longer than an instance's KV cache: refused on every path, naming them
    (["simulate", "--profile", "{small}", "--isl", "150000", "--osl", "10", "--rps", "0.01",
      "--requests", "200"], EXIT_BAD_INPUT, "needs more KV cache than a decode instance holds"),
    (["size", "--profile", "{small}", "--isl", "150000", "--osl", "10", "--rps", "0.01",
      "--ttft", "60s"], EXIT_BAD_INPUT, "(ISL 150,000 + OSL 10 tokens) needs more KV cache"),
    (["size", "--profile", "{small}", "--isl", "20000", "--isl-dist", "exponential", "--osl",
      "10", "--rps", "0.01", "--ttft", "60s"], EXIT_BAD_INPUT, "of the requests drawn from"),
    (["size", "--profile", "{small}", "--trace", "{long_trace}", "--ttft", "60s"],
     EXIT_BAD_INPUT, "1 of 3 requests need more KV cache than a decode instance holds"),
    (["simulate", "--profile", "{small}", "--trace", "{long_trace}", "--prefill", "1",
      "--decode", "1"], EXIT_BAD_INPUT, "clip them with --max-context 100000"),
    (["capacity", "--profile", "{small}", "--trace", "{long_trace}"], EXIT_BAD_INPUT,
     "need more KV cache"),
    # a value in the wrong unit, a setting that would change nothing, a count that disagrees
    (["size", "--profile", "{tpot_seconds}"], EXIT_BAD_INPUT, "TPOT is in milliseconds"),
    (["size", "--decode-table", "10:0.015,20:0.02"], EXIT_BAD_INPUT, "TPOT is in milliseconds"),
    (["size", "--confidence", "0.9"], EXIT_BAD_INPUT, "records no measurement intervals"),
    (["size", "--trace", TRACE, "--confidence", "0.9"], EXIT_BAD_INPUT, "no measurement interv"),
    (["size", "--confidence", "nan"], EXIT_BAD_INPUT, "nan is not a confidence"),
    (["size", "--confidence", "1"], EXIT_BAD_INPUT, "expected 0.5 to 0.999"),
    (["import", IMPORTS + "/tpmax-c2.json", "--hardware", "8xH100", "--prefill-gpus", "4",
      "--out", "{tmp}/o"], EXIT_BAD_INPUT, "says 8 GPUs per instance, --prefill-gpus 4"),
    (["size", "--isl", "500", "--isl-dist", "file:" + TRACE], EXIT_BAD_INPUT,
     "--isl and --isl-dist file:...: the file gives the lengths"),
    # limits checked before the work, files whose fields disagree
    (["size", "--trace", TRACE, "--slo-window", "1s"], EXIT_BAD_INPUT,
     "--slo-window: '1s' is shorter than 10 s"),
    (["capacity", "--sweep-allocations", "2000P1D"], EXIT_BAD_INPUT,
     "at most 1,000 instances per phase"),
    (["trace", "{twice}"], EXIT_BAD_INPUT, "the column 'isl_tokens' appears 2 times"),
    (["trace", "{hashes}"], EXIT_BAD_INPUT, "2 id(s) do not cover an input_length of 2,000"),
    # values out of any sane range
    (["simulate", "--prefill-scv", "1e300"], EXIT_BAD_INPUT, "'--prefill-scv'"),
    (["simulate", "--isl-dist", "lognormal:50"], EXIT_BAD_INPUT, "sigma"),
    (["size", "--tpm", "1e30"], EXIT_BAD_INPUT, "--tpm: the target is"),
    (["size", "--rps", "1e-12"], EXIT_BAD_INPUT, "--rps: the target is 1e-12 req/s"),
    (["size", "--rps", "1e5"], EXIT_BAD_INPUT, "needs more than 10,000 decode instances"),
    (["size", "--tpm", "1e12", "--verify"], EXIT_BAD_INPUT, "the target is"),
    (["size", "--tpot", "1e308s"], EXIT_BAD_INPUT, "--tpot: Input should be less than"),
    (["size", "--isl", "0"], EXIT_BAD_INPUT, "'--isl': 0 is not in the range"),
    (["size", "--tpm", "0"], EXIT_BAD_INPUT, "--tpm must be > 0"),
    (["simulate", "--prefill", "100000", "--decode", "100000"], EXIT_BAD_INPUT, "1<=x<=1000"),
    (["loadtest", "--url", "{url}", "--duration", "1e308s", "--out", "{tmp}/o"],
     EXIT_BAD_INPUT, "--duration: at most 24h"),
    (["loadtest", "--url", "{url}", "--rps", "1e5", "--out", "{tmp}/o"],
     EXIT_BAD_INPUT, "worker(s) send at most"),
    (["profile", "decode", "--url", "{url}", "--batch", "100000", "--out", "{tmp}/o"],
     EXIT_BAD_INPUT, "--batch: values must be integers in 1..4,096"),
    (["loadtest", "--url", "{url}", "--request-timeout", "2days", "--out", "{tmp}/o"],
     EXIT_BAD_INPUT, "--request-timeout"),
    # profile values
    (["size", "--profile", "{output_tps}"], EXIT_BAD_INPUT, "output_tps 1e-09 is not plausible"),
    (["size", "--profile", "{string_tps}"], EXIT_BAD_INPUT, "valid number (got '28309')"),
    (["size", "--profile", "{bool_overhead}"], EXIT_BAD_INPUT, "overhead_s: Input should be"),
    (["size", "--profile", "{huge_tps}"], EXIT_BAD_INPUT, "less than or equal to 100000000"),
    (["size", "--profile", "{truncated}"], EXIT_BAD_INPUT, "the file was cut short"),
    (["size", "--profile", "{duplicate}"], EXIT_BAD_INPUT,
     "duplicate.yaml: line 9: the key 'overhead_s' is written twice (lines 8 and 9)"),
    # files that are not text
    (["size", "--profile", "{binary}"], EXIT_BAD_INPUT, "not a UTF-8 text file"),
    (["simulate", "--trace", "{binary}"], EXIT_BAD_INPUT, "not a UTF-8 text file"),
    (["simulate", "--trace", "{latin1}"], EXIT_BAD_INPUT, "not a UTF-8 text file"),
    (["size", "--isl-dist", "file:{binary}"], EXIT_BAD_INPUT, "not a UTF-8 text file"),
    # output paths that cannot be written, refused before any work
    (["simulate", "--records", "/nonexistent/r.csv"], EXIT_BAD_INPUT, "does not exist"),
    (["simulate", "--records", "{tmp}"], EXIT_BAD_INPUT, "is a directory"),
    (["capacity", "--sweep-allocations", "3P4D", "--plot", "/nonexistent/p.png"], EXIT_BAD_INPUT,
     "--plot"),
    (["loadtest", "--url", "{url}", "--out", "/proc/pdplan"], EXIT_BAD_INPUT, "--out: cannot"),
    (["loadtest", "--url", "{url}", "--plot", "/nonexistent/p.png", "--out", "{tmp}/o"],
     EXIT_BAD_INPUT, "--plot"),
    (["profile", "prefill", "--url", "{url}", "--out", "/proc/pdplan"], EXIT_BAD_INPUT, "--out"),
    # options that do not go together, or do not apply
    (["size", "--export", "vllm", "--json"], EXIT_BAD_INPUT, "--export and --json"),
    (["size", "--export", "vllm", "--verify"], EXIT_BAD_INPUT, "--export and --verify"),
    (["size", "--prefill-tps", "1k", "--decode-tps", "1k", "--ttft", "1ms"], EXIT_BAD_INPUT,
     "--prefill-tps and --ttft"),
    (["size", "--prefill-tps", "1k", "--decode-tps", "1k", "--ttft-stat", "p99"], EXIT_BAD_INPUT,
     "--prefill-tps and --ttft-stat"),
    (["capacity", "--sweep-allocations", ""], EXIT_BAD_INPUT, "--sweep-allocations: cannot"),
    (["capacity", "--tpm", "1k"], EXIT_BAD_INPUT, "--tpm does not apply to capacity"),
    (["capacity", "--plot", "p.png"], EXIT_BAD_INPUT, "--plot draws the sweep"),
    (["trace", TRACE, "--plot", "t.txt"], EXIT_BAD_INPUT,
     "--plot: 't.txt': a plot is written as png, svg, pdf, jpg, jpeg"),
    (["loadtest", "--url", "{url}", "--trace", TRACE, "--isl-dist", "exponential",
      "--out", "{tmp}/o"], EXIT_BAD_INPUT, "--isl-dist and --trace"),
    (["loadtest", "--url", "{url}", "--prefill", "3", "--decode", "4", "--out", "{tmp}/o"],
     EXIT_BAD_INPUT, "give --profile FILE"),
    (["loadtest", "--url", "{url}", "--prefill", "3", "--out", "{tmp}/o"], EXIT_BAD_INPUT,
     "--prefill and --decode: give both"),
    (["profile", "all", "--url", "{url}", "--prefill-url", "{url}", "--out", "{tmp}/o"],
     EXIT_BAD_INPUT, "--url and --prefill-url do not go together"),
    (["size", "--export", "vllm", "--served-model", "m; touch PWNED"], EXIT_BAD_INPUT,
     "--served-model: 'm; touch PWNED' is not a model id"),
    (["size", "--export", "vllm", "--served-model", "m\n"], EXIT_BAD_INPUT,
     "--served-model: 'm\\n' is not a model id"),
    (["size", "--osl-dist", "uniform:5-1"], EXIT_BAD_INPUT, "high_tokens 1 < low_tokens 5"),
    (["size", "--decode-table", "10:1e308"], EXIT_BAD_INPUT, "--decode-table: '10:1e308'"),
    (["size", "--prefill-max-tps", "1e308"], EXIT_BAD_INPUT, "--prefill-max-tps: max_tps"),
    (["size", "--overhead", "1e308s"], EXIT_BAD_INPUT, "--overhead: Input should be"),
    (["loadtest", "--url", "notaurl", "--out", "{tmp}/o"], EXIT_BAD_INPUT,
     "--url: 'notaurl' is not an http(s) URL"),
    (["profile", "all", "--url", "http://x:port", "--out", "{tmp}/o"], EXIT_BAD_INPUT,
     "is not an http(s) URL"),
    (["size", "--prefill-tps", "1k", "--decode-tps", "1k", "--isl-dist", "exponential"],
     EXIT_BAD_INPUT, "--prefill-tps and --isl-dist"),
    (["size", "--trace", TRACE, "--verify"], EXIT_BAD_INPUT, "--verify and --trace"),
    (["loadtest", "--url", "{url}", "--trace", TRACE, "--duration", "10s", "--out", "{tmp}/o"],
     EXIT_BAD_INPUT, "--duration and --trace"),
    # a dead server: refused, and the run leaves no output directory behind
    (["loadtest", "--url", "http://127.0.0.1:9", "--rps", "1", "--duration", "1s", "--out",
      "{tmp}/o"], EXIT_BAD_INPUT, "http://127.0.0.1:9: cannot reach the server"),
    (["profile", "prefill", "--url", "http://127.0.0.1:9", "--out", "{tmp}/o"], EXIT_BAD_INPUT,
     "cannot reach the server"),
    # a command line that cannot be parsed
    (["size", "--bogus"], EXIT_USAGE, "No such option '--bogus'"),
    (["loadtest"], EXIT_USAGE, "Missing option '--url'"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "code", "needle"), CASES, ids=[" ".join(c[0]) for c in CASES])
def test_refused_with_one_line_and_nothing_written(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    files: dict[str, str],
    server: FakeServer,
    args: list[str],
    code: int,
    needle: str,
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    filled = [a.format(url=server.url, tmp=work, **files) for a in args]
    got, out, err = run(capsys, *filled)
    assert got == code, err
    assert out == ""
    assert needle in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err and "InternalError" not in err
    assert list(work.iterdir()) == []  # nothing written
    assert server.engine.completions == 0  # nothing measured


def _strict_json(text: str) -> dict[str, Any]:
    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in JSON output")

    data: dict[str, Any] = json.loads(text, parse_constant=refuse)
    return data


@pytest.mark.parametrize("command", ["simulate", "capacity"])
def test_one_token_outputs_have_no_tpot_and_strict_json(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    code, out, err = run(capsys, command, "--osl", "1", "--requests", "2000", "--json")
    assert code == 0, err
    data = _strict_json(out)
    result = data if command == "simulate" else data["at_capacity"]
    assert result["tpot_s"] is None and result["tpot_attainment"] is None


def test_capacity_with_few_requests_gives_an_interval_not_zero(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for requests in ("100", "1000"):
        code, out, err = run(capsys, "capacity", "--requests", requests, "--json")
        assert code == 0, err
        data = _strict_json(out)
        assert data["max_total_tps"] > 0 and data["replications"] == 5
        assert data["max_total_low_tps"] <= data["max_total_tps"] <= data["max_total_high_tps"]
    code, out, _ = run(capsys, "capacity", "--requests", "100")
    assert "interval is wide" in out and "0.00 M TPM" not in out


def test_overload_is_stated_with_the_offered_load(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "simulate", "--tpm", "50M", "--requests", "5000")
    assert code == 0
    assert "offered 50.00 M TPM" in out and "overloaded" in out


def test_a_repaired_tpot_curve_is_warned_of(
    capsys: pytest.CaptureFixture[str], files: dict[str, str]
) -> None:
    code, _, err = run(
        capsys, "size", "--profile", files["decreasing"], "--isl", "2000", "--osl", "250",
        "--tpot", "40ms",
    )  # fmt: skip
    assert code == 0
    assert "warning: measured decode TPOT falls somewhere as the batch grows" in err


def test_a_server_that_never_answers_times_out(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with FakeServer(FakeEngine(fault="stall", fault_after_chunks=0)) as stalled:
        code, _, err = run(
            capsys, "loadtest", "--url", stalled.url, "--rps", "4", "--duration", "1s",
            "--isl", "10", "--osl", "4", "--request-timeout", "1s", "--out", str(tmp_path),
        )  # fmt: skip
    assert code == EXIT_BAD_INPUT
    assert (
        err.strip()
        .splitlines()[-1]
        .startswith(
            f"BenchmarkError: {stalled.url}: probe request failed: timeout: no complete answer "
            "within 1 s"
        )
    )


def test_a_server_with_wrong_usage_types_is_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with FakeServer(FakeEngine(fault="usage_types")) as bad:
        code, _, err = run(
            capsys, "loadtest", "--url", bad.url, "--rps", "5", "--duration", "1s",
            "--isl", "10", "--osl", "4", "--out", str(tmp_path),
        )  # fmt: skip
    assert code == EXIT_BAD_INPUT
    assert "usage.prompt_tokens is 'many'; expected a whole number" in err
    assert "Traceback" not in err


def test_clipping_to_the_kv_cache_makes_a_long_trace_plannable(
    capsys: pytest.CaptureFixture[str], files: dict[str, str]
) -> None:
    code, out, err = run(
        capsys, "size", "--profile", files["small"], "--trace", files["long_trace"],
        "--max-context", "100000", "--ttft", "60s", "--json",
    )  # fmt: skip
    assert code == 0, err
    data = _strict_json(out)
    assert data["allocation"]["tpot_s"]["mean"] > 0


def test_a_simulation_that_leaves_a_request_unfinished_is_a_bug_not_a_number() -> None:
    from pdplan.sim.metrics import Columns, summarize_run

    stuck = Columns([0.0, 1.0], [100, 100], [11, 11], [0.0, 1.0], [0.5, 1.5], [1.5, 0.0])
    with pytest.raises(RuntimeError, match="left request 1 unfinished"):
        summarize_run(
            stuck, warmup_share=0.0, slo=None, prefill_busy_s=[1.0], decode_occupancy=[2.0],
            end_s=1.5, keep_records=False,
        )  # fmt: skip


def test_the_hardware_count_is_the_gpus_per_instance(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    files = [
        f"{IMPORTS}/{name}.json" for name in ("tpmax-c1", "tpmax-c4", "decode-c1", "decode-c4")
    ]
    code, _, err = run(capsys, "import", *files, "--hardware", "8xH100", "--out", str(tmp_path))
    assert code == 0, err
    profile = yaml.safe_load((tmp_path / "profile.yaml").read_text())
    assert profile["prefill"]["gpus_per_instance"] == profile["decode"]["gpus_per_instance"] == 8
    assert profile["metadata"]["hardware"] == "8xH100"


def test_a_confidence_is_shown_with_its_digits(capsys: pytest.CaptureFixture[str]) -> None:
    profile = Path(__file__).parents[1] / "benchmarks/data/engine-bursts/single-pinned/profile.yaml"
    code, out, err = run(
        capsys, "size", "--profile", str(profile), "--isl", "512", "--osl", "64", "--rps", "10",
        "--ttft", "200ms", "--tpot", "30ms", "--confidence", "0.999",
    )  # fmt: skip
    assert code == 0, err
    assert "99.9% intervals" in " ".join(out.split()) and "100% intervals" not in out


@pytest.mark.parametrize(
    "extra",
    [["--trace-osl", "1"], ["--max-context", "2"], ["--trace-osl", "1", "--routing", "pooled"],
     ["--trace-osl", "1", "--decode-routing", "random"]],
    ids=lambda e: " ".join(e),
)  # fmt: skip
def test_a_prefill_only_trace_is_planned_without_a_tpot(
    capsys: pytest.CaptureFixture[str], extra: list[str]
) -> None:
    code, out, err = run(capsys, "size", "--trace", TRACE, "--time-scale", "50", *extra, "--json")
    assert code == 0, err
    data = _strict_json(out)
    assert data["analytic_allocation"]["predicted_tpot_s"] is None
    assert data["allocation"]["tpot_s"] is None
    code, out, err = run(capsys, "size", "--trace", TRACE, "--time-scale", "50", *extra)
    assert code == 0 and "no request decodes" in " ".join(out.split()), err


def test_a_profile_written_by_hand_needs_no_end_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    text = (DATA / "small-profile.yaml").read_text()
    path = tmp_path / "mine.yaml"
    path.write_text(text.replace("...\n", ""))  # as a user copies and edits one
    code, _, err = run(capsys, "size", "--profile", str(path), "--isl", "2000", "--osl", "250")
    assert code == 0, err


def test_a_profile_pdplan_writes_says_so_and_reads_back(tmp_path: Path) -> None:
    from pdplan.io import default_profile, load_profile, save_profile

    path = tmp_path / "p.yaml"
    save_profile(default_profile(), path)
    lines = path.read_text().splitlines()
    assert lines[0].startswith(WRITTEN_BY) and lines[-1] == "..."
    assert load_profile(path) == default_profile()


def test_a_plot_without_an_extension_is_a_png_and_says_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "trace", TRACE, "--plot", "t")
    assert code == 0, err
    assert "plot written to t.png" in err and (tmp_path / "t.png").stat().st_size > 0


def test_a_profile_plot_draws_both_figures_in_one_file(tmp_path: Path) -> None:
    from pdplan.io import load_profile
    from pdplan.report.plots import plot_profile

    measured = Path(__file__).parents[1] / "benchmarks/data/engine-bursts/single-pinned"
    path = plot_profile(load_profile(measured / "profile.yaml"), tmp_path / "p.svg")
    text = path.read_text()
    assert "TTFT vs rate" in text and "Decode" in text


def test_a_trace_past_the_replay_limit_is_refused_while_it_is_read() -> None:
    from pdplan.errors import ConfigError
    from pdplan.traffic.formats import parse_trace

    lines = ["arrival_s,isl_tokens,osl_tokens", *(f"{i},10,2" for i in range(100))]
    with pytest.raises(ConfigError, match=r"t.csv:12: the trace holds more than 10 requests"):
        parse_trace(iter(lines), "t.csv", max_requests=10)
    assert len(parse_trace(lines, "t.csv", slice_s=(0, 10), max_requests=10)) == 10


def test_mooncake_timestamps_in_seconds_are_warned_of(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text(
        "".join(
            f'{{"timestamp": {i * 0.3:.1f}, "input_length": 100, "output_length": 10}}\n'
            for i in range(50)
        )
    )
    code, _, err = run(capsys, "trace", str(path), "--json")
    assert code == 0, err
    assert "warning: " in err and "look like seconds" in err and "multiply them by 1000" in err
    code, _, err = run(capsys, "trace", str(DATA / "traces" / "mooncake.jsonl"), "--json")
    assert code == 0 and "warning" not in err


def test_a_proxy_error_page_is_one_line_with_its_title(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with FakeServer(FakeEngine(fault="html_502")) as proxy:
        code, _, err = run(
            capsys, "loadtest", "--url", proxy.url, "--rps", "4", "--duration", "1s",
            "--isl", "10", "--osl", "4", "--out", str(tmp_path / "o"),
        )  # fmt: skip
    assert code == EXIT_BAD_INPUT
    last = err.strip().splitlines()[-1]
    assert "HTTP 502: 502 Bad Gateway" in last and "<" not in last and len(last) < 400, err
