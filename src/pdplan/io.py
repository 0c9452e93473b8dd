"""Reading and writing profiles (YAML or JSON). The only module of the core that opens files.

Validation errors become one line each, naming the file, the dotted field path, the value
and what is allowed, e.g. ``my.yaml: prefill.overhead_s: Input should be greater than or
equal to 0 (got -1)``.
"""

from __future__ import annotations

import csv
import json
import os
import re
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import ValidationError

from pdplan.errors import ConfigError
from pdplan.measured.runs import BenchRun
from pdplan.schema.profile import Profile
from pdplan.schema.trace import Trace
from pdplan.strict import DuplicateKeyError, strict_json
from pdplan.traffic.formats import parse_trace

if TYPE_CHECKING:
    from pdplan.traffic.servegen import ServeGenPool

__all__ = [
    "DEFAULT_PROFILE_NAME",
    "check_out_dir",
    "check_writable",
    "default_profile",
    "format_validation_error",
    "load_lengths",
    "load_profile",
    "load_servegen",
    "load_trace",
    "parse_profile",
    "save_profile",
    "write_rows_csv",
]

DEFAULT_PROFILE_NAME = "paper-deepseek-v3.1-sglang-8xh200.yaml"
#: The YAML end-of-document marker every YAML profile pdplan writes ends with.
YAML_END = "..."
#: The first line of every YAML profile pdplan writes: such a file must end with
#: :data:`YAML_END` (a copy cut short at a line boundary is still valid YAML, and would lose its
#: last points silently). A profile written by hand has no such line and no such check.
WRITTEN_BY = "# pdplan profile"


class _Loader(yaml.SafeLoader):
    """YAML with the YAML 1.2 core schema's floats: ``1e-9`` and ``2E4`` are numbers (PyYAML
    follows YAML 1.1, which reads them as strings)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


class _DuplicateYamlKey(yaml.constructor.ConstructorError):
    """A key written twice in one YAML mapping."""


def _no_duplicate_keys(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> Any:
    """A mapping whose keys are unique: a key written twice is refused (YAML would keep the
    last one silently)."""
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            line = key_node.start_mark.line + 1
            raise _DuplicateYamlKey(
                None,
                None,
                f"the key {key!r} is written twice (lines {seen[key]} and {line}); a value given "
                "twice is a mistake pdplan does not guess at: keep one",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicate_keys)


def _yaml_load(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass


def format_validation_error(error: ValidationError, source: str) -> str:
    """One line per problem: ``source: dotted.path: message (got value)``."""
    lines = []
    for item in error.errors():
        path = ".".join(str(part) for part in item["loc"]) or "(top level)"
        value = item.get("input")
        shown = item["type"] != "missing" and not isinstance(value, dict | list)
        got = f" (got {value!r})" if shown else ""
        message = str(item["msg"]).removeprefix("Value error, ")
        lines.append(f"{source}: {path}: {message}{got}")
    return "; ".join(lines)


def parse_profile(data: Any, source: str = "profile") -> Profile:
    """Validate already-parsed YAML/JSON data as a profile, strictly: a number must be a
    number (``"28309"`` or ``true`` is refused, not read as 28309 or 1).

    :raises ConfigError: naming the field, the value and what is allowed
    """
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source}: expected a mapping at the top level, got {type(data).__name__}"
        )
    try:
        return Profile.model_validate(data, strict=True)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, source)) from None


def load_profile(path: str | Path) -> Profile:
    """Read a profile from a ``.yaml``/``.yml`` or ``.json`` file.

    :raises ConfigError: if the file is missing, unreadable, not YAML/JSON or invalid
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a UTF-8 text file; a profile is YAML or JSON") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read profile: {exc.strerror or exc}") from None
    try:
        data = strict_json(text) if path.suffix == ".json" else _yaml_load(text)
    except (ValueError, yaml.YAMLError, RecursionError) as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if isinstance(exc, yaml.MarkedYAMLError) and exc.problem and exc.problem_mark:
            first_line = f"line {exc.problem_mark.line + 1}: {exc.problem}"
        if isinstance(exc, DuplicateKeyError | _DuplicateYamlKey):
            raise ConfigError(f"{path}: {first_line}") from None
        raise ConfigError(f"{path}: not valid YAML/JSON: {first_line}") from None
    if path.suffix != ".json" and isinstance(data, dict):
        _check_complete(text, path)
    return parse_profile(data, str(path))


def _check_complete(text: str, path: Path, *, always: bool = False) -> None:
    """A YAML profile that pdplan wrote (its first line :data:`WRITTEN_BY`) ends with the
    end-of-document line ``...``: a copy cut short at a line boundary is still valid YAML, and
    would silently lose its last decode points. A profile written by hand is taken as whole."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not (always or (lines and lines[0].startswith(WRITTEN_BY))):
        return
    if not lines or lines[-1] != YAML_END:
        raise ConfigError(
            f"{path}: pdplan wrote this profile and ended it with the YAML end-of-document line "
            f"{YAML_END!r}, which is missing: the file was cut short (points lost). Restore the "
            f"file, or, once you checked it is whole, remove its first line {WRITTEN_BY!r}"
        )


def default_profile() -> Profile:
    """The embedded default: the paper's worked example (DeepSeek-V3.1 on 8xH200, SGLang)."""
    text = resources.files("pdplan.data").joinpath(DEFAULT_PROFILE_NAME).read_text("utf-8")
    source = f"<embedded {DEFAULT_PROFILE_NAME}>"
    _check_complete(text, Path(source), always=True)
    return parse_profile(_yaml_load(text), source)


def save_profile(profile: Profile, path: str | Path) -> None:
    """Write a profile as YAML (``.yaml``/``.yml``, opening with :data:`WRITTEN_BY` and ending
    with ``...``) or JSON (any other suffix)."""
    path = Path(path)
    data = profile.model_dump(mode="json", exclude_none=True)
    if path.suffix in (".yaml", ".yml"):
        header = (
            f"{WRITTEN_BY} (schema version {profile.schema_version}); its last line "
            f"'{YAML_END}' marks it whole\n"
        )
        text = header + yaml.safe_dump(data, sort_keys=False, explicit_end=True)
    else:
        text = json.dumps(data, indent=2) + "\n"
    path.write_text(text, encoding="utf-8")


def load_trace(path: str | Path, *, slice_s: tuple[float, float] | None = None) -> Trace:
    """A request trace in any format :mod:`pdplan.traffic.formats` reads (detected), plain or
    gzip'd (``.gz``).

    :param slice_s: keep the requests in ``[start, end)`` seconds after the first one
    :raises ConfigError: naming the file, the line and the field
    """
    import gzip

    path = Path(path)
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rt", encoding="utf-8", newline="") as zipped:
                return parse_trace(zipped, str(path), slice_s=slice_s)
        with path.open(encoding="utf-8", newline="") as handle:
            return parse_trace(handle, str(path), slice_s=slice_s)
    except (gzip.BadGzipFile, EOFError) as exc:
        raise ConfigError(f"{path}: not a whole gzip file ({exc})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not a UTF-8 text file (byte 0x{exc.object[exc.start]:02x} at offset "
            f"{exc.start} of a read block); a trace is CSV or JSON text"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read trace: {exc.strerror or exc}") from None


def load_servegen(path: str | Path) -> ServeGenPool:
    """A ServeGen client pool: the folder ``data/<category>/<model>/`` of alibaba/ServeGen
    (``chunk-N-trace.csv`` and ``chunk-N-dataset.json`` per client; a client without its
    dataset file is left out and named in ``skipped``).

    :raises ConfigError: when the folder is not such a pool, or a file is malformed
    """
    from pdplan.traffic.servegen import ServeGenPool, parse_client

    folder = Path(path)
    numbers = []
    for trace_file in folder.glob("chunk-*-trace.csv"):
        middle = trace_file.name.removeprefix("chunk-").removesuffix("-trace.csv")
        if middle.isdigit():
            numbers.append(int(middle))
    if not numbers:
        raise ConfigError(
            f"{folder}: not a ServeGen client pool: expected chunk-N-trace.csv and "
            "chunk-N-dataset.json files (a data/<category>/<model>/ folder of alibaba/ServeGen)"
        )
    clients, skipped = [], []
    for n in sorted(numbers):
        dataset_file = folder / f"chunk-{n}-dataset.json"
        if not dataset_file.is_file():
            skipped.append(n)
            continue
        try:
            trace_text = (folder / f"chunk-{n}-trace.csv").read_text(encoding="utf-8")
            dataset = strict_json(dataset_file.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ConfigError(f"{folder}: client {n}: unreadable ({exc})") from None
        clients.append(parse_client(n, trace_text, dataset, str(folder)))
    if not clients:
        raise ConfigError(f"{folder}: no client has its chunk-N-dataset.json: nothing to generate")
    return ServeGenPool(str(folder), tuple(clients), tuple(skipped))


#: A benchmark result file larger than this is refused (detailed exports of ~1M requests fit).
MAX_BENCH_FILE_BYTES = 2 * 1024**3
#: aiperf's summary, and the per-request records it writes beside it.
AIPERF_SUMMARY, AIPERF_RECORDS = "profile_export_aiperf.json", "profile_export.jsonl"


def _beside(path: Path) -> Path | None:
    """The file a tool writes next to a result that the reader also needs, if any."""
    if path.name == AIPERF_SUMMARY:
        return path.with_name(AIPERF_RECORDS)
    if path.name.startswith("stage_") and path.name.endswith("_lifecycle_metrics.json"):
        return path.with_name("config.yaml")  # inference-perf: the load type
    return None


def load_bench_runs(path: str | Path) -> list[BenchRun]:
    """The runs in a benchmark result file of any tool :mod:`pdplan.measured.formats` reads.

    :raises ConfigError: naming the file (and the field) when it cannot be read
    """
    from pdplan.measured.formats import parse_bench_file

    path = Path(path)
    try:
        if path.is_dir():
            raise ConfigError(f"{path}: a directory; give the result files inside it")
        if path.stat().st_size > MAX_BENCH_FILE_BYTES:
            raise ConfigError(f"{path}: larger than 2 GiB; not a benchmark result")
        text = path.read_text(encoding="utf-8")
        beside = _beside(path)
        companion = None
        if beside is not None and beside.is_file():
            if beside.stat().st_size > MAX_BENCH_FILE_BYTES:
                raise ConfigError(f"{beside}: larger than 2 GiB; not a benchmark result")
            companion = beside.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a UTF-8 text file; expected JSON or JSON lines") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return parse_bench_file(text, str(path), companion)


def load_lengths(path: str | Path) -> list[int]:
    """Token lengths, one positive integer per line (an empirical distribution)."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").split()
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a UTF-8 text file; expected one length per line") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read lengths: {exc.strerror or exc}") from None
    try:
        values = [int(v) for v in lines]
    except ValueError as exc:
        raise ConfigError(f"{path}: every line must be a whole number of tokens ({exc})") from None
    if not values or min(values) < 1:
        raise ConfigError(f"{path}: need at least one length, all >= 1")
    return values


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
