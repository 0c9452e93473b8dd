"""Reading the other inputs: traces (and ServeGen client pools), schedules, benchmark
results of other tools, length files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from pdplan.errors import ConfigError
from pdplan.io.profiles import format_validation_error
from pdplan.measured.runs import BenchRun
from pdplan.schema.schedule import Schedule
from pdplan.schema.trace import Trace
from pdplan.strict import strict_json
from pdplan.traffic.formats import parse_trace

if TYPE_CHECKING:
    from pdplan.traffic.servegen import ServeGenPool


def load_schedule(path: str | Path, scale_up_delay_s: float) -> Schedule:
    """A schedule from the CSV that ``pdplan schedule --csv`` writes (or its ``--json``, whose
    ``schedule`` it takes).

    :raises ConfigError: if the file is missing or not a schedule, naming the line or field
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the schedule: {_reason(exc)}") from None
    if path.suffix != ".json":
        return Schedule.from_csv(text, str(path), scale_up_delay_s)
    try:
        data = strict_json(text)
    except ValueError as exc:
        raise ConfigError(f"{path}: not valid JSON: {str(exc).splitlines()[0]}") from None
    steps = data.get("schedule", data).get("steps") if isinstance(data, dict) else None
    if not isinstance(steps, list):
        raise ConfigError(f"{path}: no schedule.steps list (the JSON of pdplan schedule)")
    try:
        return Schedule(steps=steps, scale_up_delay_s=scale_up_delay_s)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, str(path))) from None


def _reason(exc: OSError | UnicodeDecodeError) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    return str(exc.strerror or exc)


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
