"""A profile's measurement intervals as planning inputs. Pure.

A profile measured by pdplan
records 90 % intervals beside its values: TPmax per ISL, the mean TTFT of each Poisson sweep
point (batch means), the mean TPOT per decode batch, the overhead. :func:`bounded_profile`
moves every measured value to the pessimistic (or the optimistic) end of its interval at once:
lower TPmax, higher overhead, higher TPOT, and the engine's service SCV at the top of the sweep
fit's interval when the fit is used (when it is not, both ends keep the model's prior: the
model stays the same, only its inputs move). Planning on both ends gives the range of the
capacity that the measurements allow; planning on the pessimistic end is ``--confidence``.
Moving every value to its bound together is conservative (they are not all that unlucky at
once), and the range covers only the measurement noise the intervals saw, not drift between
profiling and serving (``tpmax_drift`` reports that).

Another confidence than the recorded 90 % scales each half-width by the normal quantiles:
``half_c = half_90 * z((1 + c) / 2) / z(0.95)``.
"""

from __future__ import annotations

from statistics import NormalDist
from typing import Literal

from pdplan.engine.variability import fit_engine_scv
from pdplan.schema.profile import INTERVAL_CONFIDENCE, DecodePoint, PrefillPoint, Profile

__all__ = [
    "MAX_CONFIDENCE",
    "MIN_CONFIDENCE",
    "End",
    "bounded_profile",
    "check_confidence",
    "has_intervals",
]

#: The confidences a plan may take (below 0.5 the pessimistic end is the optimistic one).
MIN_CONFIDENCE, MAX_CONFIDENCE = 0.5, 0.999

End = Literal["pessimistic", "optimistic"]


def has_intervals(profile: Profile) -> bool:
    """True when the profile records an interval for any measured value.

    >>> from pdplan.io import default_profile
    >>> has_intervals(default_profile())
    False
    """
    p, d = profile.prefill, profile.decode
    return (
        any(x.max_tps_low is not None or x.max_tps_high is not None for x in p.max_throughput)
        or any(x.ttft_mean_high_s is not None for x in p.ttft_vs_rate)
        or any(x.tpot_high_ms is not None for c in d.curves for x in c.points)
        or p.overhead_high_s is not None
    )


def check_confidence(profile: Profile, confidence: float, field: str = "--confidence") -> None:
    """Refuse a confidence the profile cannot plan at: out of range (NaN included), or a
    profile that records no interval (the plan would be the measured one, not the bound).

    >>> from pdplan.io import default_profile
    >>> check_confidence(default_profile(), 0.9)
    Traceback (most recent call last):
    pdplan.errors.ConfigError: --confidence: the profile records no measurement intervals, so...
    """
    from pdplan.errors import ConfigError

    if not MIN_CONFIDENCE <= confidence <= MAX_CONFIDENCE:  # NaN fails too
        raise ConfigError(
            f"{field}: {confidence!r} is not a confidence pdplan plans at; expected "
            f"{MIN_CONFIDENCE:g} to {MAX_CONFIDENCE:g}, e.g. 0.9"
        )
    if not has_intervals(profile):
        raise ConfigError(
            f"{field}: the profile records no measurement intervals, so there is no pessimistic "
            "end to plan on (profiles measured with pdplan profile record 90% intervals); plan "
            "without --confidence"
        )


def _scale(confidence: float) -> float:
    z = NormalDist().inv_cdf
    return z((1 + confidence) / 2) / z((1 + INTERVAL_CONFIDENCE) / 2)


def _moved(value: float, bound: float | None, scale: float) -> float:
    return value if bound is None else value + (bound - value) * scale


def bounded_profile(profile: Profile, end: End, confidence: float = INTERVAL_CONFIDENCE) -> Profile:
    """The profile with every measured value at the ``end`` of its ``confidence`` interval
    (values without an interval stay as measured).

    >>> from pdplan.io import default_profile
    >>> p = default_profile()
    >>> point = p.prefill.max_throughput[0].model_copy(update={"max_tps_low": 27000.0})
    >>> prefill = p.prefill.model_copy(update={"max_throughput": [point]})
    >>> low = bounded_profile(p.model_copy(update={"prefill": prefill}), "pessimistic")
    >>> low.prefill.max_throughput[0].max_tps
    27000.0
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    k = _scale(confidence)
    worse = end == "pessimistic"

    def tpmax(x: PrefillPoint) -> PrefillPoint:
        bound = x.max_tps_low if worse else x.max_tps_high
        return x.model_copy(update={"max_tps": max(_moved(x.max_tps, bound, k), 1e-9)})

    def decode(x: DecodePoint) -> DecodePoint:
        bound = x.tpot_high_ms if worse else x.tpot_low_ms
        ratio = max(_moved(x.tpot_ms, bound, k), 1e-6) / x.tpot_ms
        update: dict[str, float | None] = {"tpot_ms": x.tpot_ms * ratio}
        for name in ("tpot_p50_ms", "tpot_p90_ms", "tpot_p99_ms"):
            v = getattr(x, name)
            update[name] = None if v is None else v * ratio
        if x.output_tps is not None:  # the same batch, slower steps: fewer tokens/s
            update["output_tps"] = x.output_tps / ratio
        return x.model_copy(update=update)

    p = profile.prefill
    overhead_bound = p.overhead_high_s if worse else p.overhead_low_s
    scv = p.engine_scv
    fit = fit_engine_scv(p) if scv is None else None
    if fit is not None and fit.trusted:  # the fitted SCV at its bound; the prior stays put
        scv = max(_moved(fit.scv, fit.high if worse else fit.low, k), 0.0)
    # the sweep has done its work (the SCV above, or its prior): without it the bounded
    # profile's lower TPmax cannot re-read the sweep at other utilizations into another fit
    prefill = p.model_copy(
        update={
            "max_throughput": [tpmax(x) for x in p.max_throughput],
            "overhead_s": max(_moved(p.overhead_s, overhead_bound, k), 0.0),
            "engine_scv": scv,
            "ttft_vs_rate": [],
        }
    )
    curves = [
        c.model_copy(update={"points": [decode(x) for x in c.points]})
        for c in profile.decode.curves
    ]
    return profile.model_copy(
        update={"prefill": prefill, "decode": profile.decode.model_copy(update={"curves": curves})}
    )
