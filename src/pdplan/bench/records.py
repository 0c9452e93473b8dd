"""Per-request records: flat rows, appended to a JSONL file the moment a request ends.

An interrupt, a dead server or a timeout loses nothing already measured: every finished
(or failed) request is on disk. Step summaries are appended to a second JSONL file; a re-run
reads them back and skips the steps already done.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from pdplan.errors import ConfigError

__all__ = ["JsonlWriter", "RequestRecord", "read_jsonl", "read_part", "step_records", "write_part"]

M = TypeVar("M", bound=BaseModel)


@dataclass(slots=True)
class RequestRecord:
    """One request as measured. Times are ``time.perf_counter()`` seconds.

    ``prompt_tokens`` and ``completion_tokens`` come from the engine's ``usage`` block, never
    from counting stream chunks. ``error`` is None for a success; ``http_status`` is the
    answer's status when one came. ``run_id`` names the run (one ``pdplan`` invocation) that
    measured it, so that a step interrupted and measured again is counted once
    (:func:`step_records`).
    """

    step: str
    isl_tokens: int
    max_tokens: int
    t_send_s: float
    t_first_s: float | None = None
    t_last_s: float | None = None
    t_end_s: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    chunks: int = 0
    error: str | None = None
    http_status: int | None = None
    run_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None and self.t_first_s is not None

    @property
    def ttft_s(self) -> float | None:
        return None if self.t_first_s is None else self.t_first_s - self.t_send_s

    @property
    def tpot_s(self) -> float | None:
        """(t_last - t_first) / (completion_tokens - 1); None below two tokens."""
        n = self.completion_tokens
        if self.t_first_s is None or self.t_last_s is None or n is None or n < 2:
            return None
        return (self.t_last_s - self.t_first_s) / (n - 1)

    def to_row(self) -> dict[str, Any]:
        row = asdict(self)
        row["ttft_s"], row["tpot_s"] = self.ttft_s, self.tpot_s
        return row


class JsonlWriter:
    """Append rows to a JSONL file, one flushed line per row."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file = path.open("a", encoding="utf-8")

    def write(self, row: dict[str, Any]) -> None:
        self._file.write(json.dumps(row) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """All complete rows of a JSONL file; a torn last line (killed writer) is ignored."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def step_records(out_dir: Path, step: str) -> list[dict[str, Any]]:
    """The records of one finished step, from the run that finished it: a run interrupted
    in the middle of the step left its partial records in ``records.jsonl`` too (nothing
    measured is thrown away), and they are not counted twice. Empty while the step is
    unfinished.
    """
    finished = [row for row in read_jsonl(out_dir / "steps.jsonl") if row.get("step") == step]
    if not finished:
        return []
    run_id = finished[-1].get("run_id")
    return [
        row
        for row in read_jsonl(out_dir / "records.jsonl")
        if row.get("step") == step and (run_id is None or row.get("run_id") == run_id)
    ]


def write_part(out_dir: Path, name: str, part: BaseModel) -> Path:
    """Write a measured part to ``OUT/parts/NAME.json`` (the moment it is complete)."""
    path = out_dir / "parts" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(part.model_dump_json(indent=2, exclude_none=True) + "\n", encoding="utf-8")
    return path


def read_part(out_dir: Path, name: str, kind: type[M]) -> M | None:
    """The part ``OUT/parts/NAME.json``, validated as ``kind``; None when it does not exist.

    :raises ConfigError: naming the file and the field when it does not validate
    """
    path = out_dir / "parts" / f"{name}.json"
    if not path.exists():
        return None
    try:
        return kind.model_validate_json(path.read_text(encoding="utf-8"))
    except (ValidationError, UnicodeDecodeError) as exc:
        from pdplan.io import format_validation_error

        detail = (
            format_validation_error(exc, str(path))
            if isinstance(exc, ValidationError)
            else f"{path}: not UTF-8 text"
        )
        raise ConfigError(f"{detail}; delete it to measure the part again") from None
