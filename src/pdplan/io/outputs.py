"""Writing outputs: CSV rows, and checking that an output path can be written before the work
that fills it."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

from pdplan.errors import ConfigError


def write_rows_csv(rows: list[dict[str, Any]], path: str | Path) -> None:
    """Write flat rows (per-request records) as CSV with a header."""
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else [])
        writer.writeheader()
        writer.writerows(rows)


def check_writable(path: str | Path, option: str) -> Path:
    """Refuse, before any work, an output path that cannot be written (tried for real: as
    root, ``os.access`` says yes to places that refuse a write, such as ``/proc``).

    :raises ConfigError: naming the option, the path and why
    """
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise ConfigError(f"{option}: {path} is a directory; give a file name")
    if not parent.is_dir():
        raise ConfigError(f"{option}: the directory {parent} does not exist")
    existed = path.exists()
    try:
        with path.open("a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise ConfigError(f"{option}: {path} is not writable ({exc.strerror or exc})") from None
    if not existed:
        path.unlink(missing_ok=True)
    return path


def check_out_dir(path: str | Path, option: str) -> Path:
    """Refuse, before anything is measured, an output directory that cannot be made or
    written; tried for real, and nothing is left behind (the directory is made by the run).

    :raises ConfigError: naming the option, the path and why
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{option}: {path} exists and is not a directory")
    existing = path
    while not existing.exists():
        existing = existing.parent
    probe = existing / f".pdplan-write-check-{os.getpid()}"
    try:
        probe.mkdir()
        probe.rmdir()
    except OSError as exc:
        raise ConfigError(
            f"{option}: cannot create or write the directory {path} ({exc.strerror or exc})"
        ) from None
    return path
