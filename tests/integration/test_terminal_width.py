"""Every command's tables read at 80 and at 120 columns: no cell cut short ("…"), no line
wider than the terminal, no header folded into nothing. Rich sizes its output by ``COLUMNS``
when the output is not a terminal, as here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.cli_helpers import run
from tests.fakes.openai_server import FakeEngine, FakeServer

ROOT = Path(__file__).parents[2]
DATA = ROOT / "tests" / "data"
TRACE = str(DATA / "traces" / "azure-2023.csv")
VLLM = DATA / "imports" / "vllm-bench"
EXAMPLE = str(ROOT / "examples" / "profiles" / "vllm-cpu-1p1d-and-aggregated.yaml")
PAPER_TRACE = str(ROOT / "examples" / "traces" / "azure-llm-inference-conv-2023.csv")
RUNS = [str(VLLM / f"{n}.json") for n in ("tpmax-c1", "tpmax-c2", "decode-c1", "decode-c2")]

COMMANDS: dict[str, list[str]] = {
    "size": ["size"],
    "size --trace": ["size", "--trace", PAPER_TRACE, "--time-scale", "4"],
    "size --slo-window": ["size", "--trace", TRACE, "--trace-rps", "5", "--slo-window", "10s"],
    "size --mode compare": [
        "size", "--profile", EXAMPLE, "--mode", "compare", "--isl", "1024", "--osl", "16",
        "--rps", "8", "--ttft", "500ms", "--tpot", "50ms",
    ],
    "size hardware": [
        "size", "--prefill-profile", EXAMPLE, "--decode-profile", EXAMPLE, "--isl", "512",
        "--osl", "64", "--rps", "20", "--ttft", "500ms", "--tpot", "50ms", "--gpu-budget", "8",
        "--gpu-cost", "vllm-cpu-1p1d-and-aggregated=1",
    ],
    "simulate": ["simulate", "--requests", "2000"],
    "capacity": ["capacity", "--requests", "1000"],
    "trace": ["trace", TRACE],
    "import": ["import", *RUNS, "--out", "{tmp}/import"],
    "compare": [
        "compare", "--profile", EXAMPLE, "--measured", str(VLLM / "step-r4.json"),
        "--ttft", "200ms", "--tpot", "20ms", "--requests", "1000",
    ],
    "loadtest": [
        "loadtest", "--url", "{url}", "--isl", "100", "--osl", "8", "--rps", "20", "--ttft",
        "500ms", "--tpot", "50ms", "--duration", "1s", "--sweep", "0.5,1", "--profile", EXAMPLE,
        "--prefill", "1", "--decode", "1", "--out", "{tmp}/loadtest",
    ],
    "profile": [
        "profile", "all", "--url", "{url}", "--isl", "200", "--concurrency", "2", "--requests",
        "12", "--decode-isl", "100", "--osl", "8", "--batch", "1,2", "--rounds", "3",
        "--min-duration", "0s", "--out", "{tmp}/profile",
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def server() -> Iterator[FakeServer]:
    with FakeServer(FakeEngine(prefill_tps=100_000.0)) as s:
        yield s


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_table_reads_at_80_and_120_columns(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    server: FakeServer,
    name: str,
    width: int,
) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    args = [a.format(tmp=tmp_path, url=server.url) for a in COMMANDS[name]]
    code, out, err = run(capsys, *args)
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) > 3, out
    assert "…" not in out, out
    wide = [line for line in lines if len(line) > width]
    assert not wide, "\n".join(wide)


def _commands() -> list[tuple[str, object]]:
    import click

    from pdplan.cli import cli

    out: list[tuple[str, object]] = []

    def walk(group: click.Group, prefix: str) -> None:
        for name, command in group.commands.items():
            if isinstance(command, click.Group):
                walk(command, f"{prefix}{name} ")
            out.append((f"{prefix}{name}", command))

    walk(cli, "")
    return out


@pytest.mark.parametrize(("name", "command"), _commands(), ids=[n for n, _ in _commands()])
def test_every_option_says_what_it_does(name: str, command: object) -> None:
    import click

    assert isinstance(command, click.Command)
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert param.help, f"pdplan {name} {param.opts[0]} has no help"
            assert "%%" not in param.help, f"pdplan {name} {param.opts[0]}: {param.help}"
