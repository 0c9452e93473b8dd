"""The files pdplan reads and writes: profiles (YAML or JSON), traces and ServeGen pools,
schedules, other tools' benchmark results, CSV outputs. The only part of the core that opens
files; every error names the file and the field, in one line."""

from pdplan.io.inputs import (
    MAX_BENCH_FILE_BYTES,
    load_bench_runs,
    load_lengths,
    load_schedule,
    load_servegen,
    load_trace,
)
from pdplan.io.outputs import check_out_dir, check_writable, write_rows_csv
from pdplan.io.profiles import (
    DEFAULT_PROFILE_NAME,
    WRITTEN_BY,
    YAML_END,
    default_profile,
    format_validation_error,
    load_profile,
    parse_profile,
    save_profile,
)

__all__ = [
    "DEFAULT_PROFILE_NAME",
    "MAX_BENCH_FILE_BYTES",
    "WRITTEN_BY",
    "YAML_END",
    "check_out_dir",
    "check_writable",
    "default_profile",
    "format_validation_error",
    "load_bench_runs",
    "load_lengths",
    "load_profile",
    "load_schedule",
    "load_servegen",
    "load_trace",
    "parse_profile",
    "save_profile",
    "write_rows_csv",
]
