"""Running the CLI in-process from tests: exit code, stdout, stderr; or the --json object."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pdplan.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    """``pdplan ARGS --json``, which must succeed; its parsed output."""
    code, out, err = run(capsys, *args, "--json")
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data
