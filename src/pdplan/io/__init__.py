"""The files pdplan reads and writes: profiles (YAML or JSON), traces and ServeGen pools,
schedules, other tools' benchmark results, CSV outputs. The only part of the core that opens
files; every error names the file and the field, in one line."""

from typing import TYPE_CHECKING as _TYPE_CHECKING

from pdplan.lazy import exports as _exports

if _TYPE_CHECKING:
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

#: Each public name and the module that defines it, imported on first use.
_WHERE = {
    "DEFAULT_PROFILE_NAME": "pdplan.io.profiles",
    "MAX_BENCH_FILE_BYTES": "pdplan.io.inputs",
    "WRITTEN_BY": "pdplan.io.profiles",
    "YAML_END": "pdplan.io.profiles",
    "check_out_dir": "pdplan.io.outputs",
    "check_writable": "pdplan.io.outputs",
    "default_profile": "pdplan.io.profiles",
    "format_validation_error": "pdplan.io.profiles",
    "load_bench_runs": "pdplan.io.inputs",
    "load_lengths": "pdplan.io.inputs",
    "load_profile": "pdplan.io.profiles",
    "load_schedule": "pdplan.io.inputs",
    "load_servegen": "pdplan.io.inputs",
    "load_trace": "pdplan.io.inputs",
    "parse_profile": "pdplan.io.profiles",
    "save_profile": "pdplan.io.profiles",
    "write_rows_csv": "pdplan.io.outputs",
}
__getattr__, __dir__ = _exports(__name__, _WHERE, globals())

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
