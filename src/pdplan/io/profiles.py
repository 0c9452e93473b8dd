"""Reading and writing profiles (YAML or JSON).

Validation errors become one line each, naming the file, the dotted field path, the value
and what is allowed, e.g. ``my.yaml: prefill.overhead_s: Input should be greater than or
equal to 0 (got -1)``.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from pdplan.errors import ConfigError
from pdplan.schema.profile import Profile
from pdplan.strict import DuplicateKeyError, strict_json

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
