"""The ``pdplan`` command line. Parses, loads, calls one library function, renders.

Exit codes: 0 success; 1 bad input (a value out of range, in an option or a file; options
that do not go together; an unreachable or failing server); 2 a command line that cannot be
parsed (unknown command or option, a missing required option or value); 3 an SLO no
allocation can meet; 70 an internal error (a bug); 130 interrupted.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

import click
from pydantic import ValidationError

from pdplan.cli.lazy_group import LazyGroup
from pdplan.errors import InfeasibleSLOError, PdplanError

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_INFEASIBLE",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_USAGE",
    "cli",
    "main",
]

EXIT_BAD_INPUT = 1
EXIT_USAGE = 2
EXIT_INFEASIBLE = 3
EXIT_INTERRUPTED = 130
EXIT_INTERNAL = 70


#: Each command and where it is defined, imported only when it runs (or ``--help`` lists it):
#: ``pdplan size`` does not pay for the load tester's HTTP client or the simulator.
_COMMANDS = {
    "size": ("pdplan.cli.size", "size"),
    "profile": ("pdplan.cli.profile", "profile"),
    "simulate": ("pdplan.cli.simulate", "simulate_cmd"),
    "capacity": ("pdplan.cli.simulate", "capacity"),
    "loadtest": ("pdplan.cli.loadtest", "loadtest"),
    "trace": ("pdplan.cli.trace", "trace_cmd"),
    "schedule": ("pdplan.cli.schedule", "schedule_cmd"),
    "import": ("pdplan.cli.imports", "import_cmd"),
    "compare": ("pdplan.cli.imports", "compare_cmd"),
}


@click.group(
    cls=LazyGroup,
    lazy=_COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(package_name="pdplan")
def cli() -> None:
    """Size prefill/decode disaggregated LLM serving for a throughput target and SLOs."""


def _fail(kind: str, message: str, code: int) -> NoReturn:
    """One line on stderr, whatever the message holds (a server's page, a multi-line text)."""
    click.echo(f"{kind}: {' '.join(message.split())}", err=True)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI; print one line per error, never a traceback."""
    try:
        code = cli.main(args=argv, prog_name="pdplan", standalone_mode=False)
    except InfeasibleSLOError as exc:
        _fail(type(exc).__name__, str(exc), EXIT_INFEASIBLE)
    except PdplanError as exc:
        _fail(type(exc).__name__, str(exc), EXIT_BAD_INPUT)
    except click.exceptions.Abort:
        _fail("Interrupted", "stopped by the user", EXIT_INTERRUPTED)
    except click.BadParameter as exc:  # a value out of range: bad input, like any ConfigError
        if isinstance(exc, click.MissingParameter):
            _fail("UsageError", exc.format_message(), EXIT_USAGE)
        _fail("ConfigError", exc.format_message(), EXIT_BAD_INPUT)
    except click.ClickException as exc:
        _fail("UsageError", exc.format_message(), exc.exit_code)
    except KeyboardInterrupt:
        _fail("Interrupted", "stopped by the user", EXIT_INTERRUPTED)
    except ValidationError as exc:
        from pdplan.io import format_validation_error

        _fail("ConfigError", format_validation_error(exc, "input"), EXIT_BAD_INPUT)
    except Exception as exc:  # a bug: still one line, the traceback only on request
        if os.environ.get("PDPLAN_DEBUG"):
            raise
        _fail(
            "InternalError",
            f"{type(exc).__name__}: {exc} (a pdplan bug: please report it; "
            "PDPLAN_DEBUG=1 shows the traceback)",
            EXIT_INTERNAL,
        )
    sys.exit(code if isinstance(code, int) else 0)
