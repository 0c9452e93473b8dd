"""What-if edits of a profile from command-line numbers (the paper's demo-script workflow).

``--prefill-max-tps 28309 --overhead 100ms --decode-table 10:12.8,20:16.4`` replace the
matching parts of a profile, measured at the workload's own lengths, so that a plan needs no
file at all.
"""

from __future__ import annotations

import re

from pydantic import ValidationError

from pdplan.errors import ConfigError
from pdplan.schema.profile import DecodeCurve, DecodePoint, PrefillPoint, Profile
from pdplan.schema.workload import Workload

__all__ = ["override_profile", "parse_decode_table"]

_PAIR = re.compile(r"\s*(\d+)\s*:\s*([0-9.eE+-]+)\s*(ms)?\s*")


def parse_decode_table(text: str, field: str = "--decode-table") -> list[DecodePoint]:
    """Parse ``batch:tpot_ms`` pairs separated by commas.

    >>> [(p.batch, p.tpot_ms) for p in parse_decode_table("10:12.8, 20:16.4ms")]
    [(10, 12.8), (20, 16.4)]
    """
    allowed = "comma-separated batch:TPOT-in-ms pairs, e.g. 10:12.8,20:16.4"
    points = []
    for item in text.split(","):
        match = _PAIR.fullmatch(item)
        if match is None:
            raise ConfigError(f"{field}: cannot read {item.strip()!r}; expected {allowed}")
        batch, tpot = int(match.group(1)), float(match.group(2))
        if batch < 1 or not tpot > 0 or tpot == float("inf"):
            raise ConfigError(
                f"{field}: {item.strip()!r} needs batch >= 1 and TPOT > 0 ms; expected {allowed}"
            )
        try:
            points.append(DecodePoint(batch=batch, tpot_ms=tpot))
        except ValidationError as exc:
            raise ConfigError(f"{field}: {item.strip()!r}: {_named(exc, {})}") from None
    if len({p.batch for p in points}) != len(points):
        raise ConfigError(f"{field}: each batch may appear once, got {text!r}")
    return points


def override_profile(
    profile: Profile,
    workload: Workload,
    *,
    prefill_max_tps: float | None = None,
    overhead_s: float | None = None,
    decode_points: list[DecodePoint] | None = None,
    prefill_gpus: int | None = None,
    decode_gpus: int | None = None,
) -> Profile:
    """A copy of ``profile`` with the given parts replaced.

    ``prefill_max_tps`` becomes the only TPmax point, at the workload's uncached ISL;
    ``decode_points`` the only decode curve, at the workload's ISL/OSL.

    >>> from pdplan import Workload, default_profile
    >>> w = Workload.from_rps(isl_tokens=2048, osl_tokens=256, rate_rps=1.0)
    >>> p = override_profile(default_profile(), w, prefill_max_tps=10_000, overhead_s=0.05)
    >>> [(t.isl_tokens, t.max_tps) for t in p.prefill.max_throughput], p.prefill.overhead_s
    ([(2048, 10000.0)], 0.05)
    """
    prefill_update: dict[str, object] = {}
    if prefill_max_tps is not None:
        isl = max(1, round(workload.prefill_isl_tokens))
        try:
            point = PrefillPoint(isl_tokens=isl, max_tps=prefill_max_tps)
        except ValidationError as exc:
            raise ConfigError(f"--prefill-max-tps: {_named(exc, {})}") from None
        prefill_update["max_throughput"] = [point]
    if overhead_s is not None:
        prefill_update["overhead_s"] = overhead_s
    if prefill_gpus is not None:
        prefill_update["gpus_per_instance"] = prefill_gpus
    decode_update: dict[str, object] = {}
    if decode_points is not None:
        curve = DecodeCurve(
            isl_tokens=max(1, round(workload.isl_tokens)),
            osl_tokens=max(1, round(workload.osl_tokens)),
            points=decode_points,
        )
        decode_update["curves"] = [curve]
    if decode_gpus is not None:
        decode_update["gpus_per_instance"] = decode_gpus
    # Re-validate through the constructors so that the copy obeys the schema; an error names
    # the option that set the field.
    try:
        prefill = type(profile.prefill).model_validate(
            {**profile.prefill.model_dump(), **prefill_update}
        )
    except ValidationError as exc:
        raise ConfigError(_named(exc, _PREFILL_OPTIONS)) from None
    try:
        decode = type(profile.decode).model_validate(
            {**profile.decode.model_dump(), **decode_update}
        )
    except ValidationError as exc:
        raise ConfigError(_named(exc, _DECODE_OPTIONS)) from None
    return profile.model_copy(update={"prefill": prefill, "decode": decode})


_PREFILL_OPTIONS = {
    "max_throughput": "--prefill-max-tps",
    "overhead_s": "--overhead",
    "gpus_per_instance": "--prefill-gpus",
}
_DECODE_OPTIONS = {"curves": "--decode-table", "gpus_per_instance": "--decode-gpus"}


def _named(exc: ValidationError, options: dict[str, str]) -> str:
    item = exc.errors()[0]
    field = str(item["loc"][0]) if item["loc"] else ""
    option = options.get(field, field)
    message = str(item["msg"]).removeprefix("Value error, ")
    return f"{option}: {message} (got {item.get('input')!r})"
