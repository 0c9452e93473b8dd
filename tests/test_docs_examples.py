"""The examples in the README and the documentation run, and show what the code prints.

- Every ```` ```console ```` block holds ``$ pdplan ...`` lines, each followed by its output:
  the command is run here (from the repository's root, 80 columns) and its output (stdout;
  stderr when it fails) must equal the block's, line by line up to trailing spaces. After a
  change of output, ``PDPLAN_UPDATE_DOCS=1 pytest tests/test_docs_examples.py`` writes the new
  outputs into the pages (then read the diff).
- Every ```` ```python ```` block of the README and of ``docs/api.md`` runs.

Blocks that need a live engine are ```` ```text ```` and hold a real run's output instead.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
from pathlib import Path

import pytest

from pdplan.cli import main

ROOT = Path(__file__).parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BLOCK = re.compile(r"^```(console|python)\n(.*?)^```$", re.M | re.S)
UPDATE = os.environ.get("PDPLAN_UPDATE_DOCS") == "1"


def _blocks(kind: str) -> list[tuple[Path, int, str]]:
    out = []
    for page in PAGES:
        for match in BLOCK.finditer(page.read_text(encoding="utf-8")):
            if match.group(1) == kind:
                out.append((page, match.start(2), match.group(2)))
    return out


def _split(block: str) -> list[tuple[str, str]]:
    """``(command, expected output)`` pairs of a console block."""
    pairs: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            pairs.append((line[2:], []))
        elif pairs:
            pairs[-1][1].append(line)
    return [(cmd, "\n".join(lines)) for cmd, lines in pairs]


def _run(command: str, monkeypatch: pytest.MonkeyPatch) -> str:
    args = shlex.split(command)
    assert args[0] == "pdplan", command
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.chdir(ROOT)
    out, err = io.StringIO(), io.StringIO()
    with (
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        pytest.raises(SystemExit) as info,
    ):
        main(args[1:])
    text = out.getvalue() if info.value.code in (0, None) else err.getvalue()
    return _normal(text)


def _normal(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


CONSOLE = _blocks("console")


@pytest.mark.parametrize(
    ("page", "at", "block"),
    CONSOLE,
    ids=[f"{p.relative_to(ROOT)}:{b.splitlines()[0][2:60]}" for p, _, b in CONSOLE],
)
def test_console_examples_show_what_the_command_prints(
    page: Path, at: int, block: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pairs = _split(block)
    assert pairs, f"{page}: a console block without a '$ pdplan' line"
    got = [(cmd, _run(cmd, monkeypatch)) for cmd, _ in pairs]
    if UPDATE:
        text = page.read_text(encoding="utf-8")  # earlier blocks may have moved this one
        start = text.index(block)
        new = "".join(f"$ {cmd}\n{output}\n" for cmd, output in got)
        page.write_text(text[:start] + new + text[start + len(block) :], encoding="utf-8")
        return
    for (cmd, expected), (_, output) in zip(pairs, got, strict=True):
        assert output == _normal(expected), f"{page.name}: $ {cmd}\n{output}"


PYTHON = [(p, a, b) for p, a, b in _blocks("python") if p.name in ("README.md", "api.md")]


@pytest.mark.parametrize(
    ("page", "at", "block"), PYTHON, ids=[f"{p.name}:{a}" for p, a, _ in PYTHON]
)
def test_python_examples_run(
    page: Path, at: int, block: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    exec(compile(block, f"{page.name}:{at}", "exec"), {"__name__": "__docs__"})


def test_doctests_are_fenced_for_the_api_pages() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "griffe_doctests", ROOT / "scripts" / "griffe_doctests.py"
    )
    assert spec is not None and spec.loader is not None
    if importlib.util.find_spec("griffe") is None:
        pytest.skip("griffe (the docs extra) is not installed")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = "Text.\n\n>>> f()\n[1, 2]\n\nMore."
    assert module.fence_doctests(text) == ("Text.\n\n```python\n>>> f()\n[1, 2]\n```\n\nMore.")


def test_the_site_builds_strictly(tmp_path: Path) -> None:
    """``mkdocs build --strict``: every page, every link, every API object resolves."""
    import subprocess
    import sys

    if importlib_missing("mkdocs") or importlib_missing("mkdocstrings"):
        pytest.skip("mkdocs (the docs extra) is not installed")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "site" / "commands" / "size" / "index.html").is_file()


def importlib_missing(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is None
