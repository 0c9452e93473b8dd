"""What both phases share: a pool's SLO-limited request rate as a function of its instance
count, the smallest pool that carries a rate, and the bound on plan sizes. Pure."""

from __future__ import annotations

from collections.abc import Callable

from pdplan.errors import ConfigError

__all__ = [
    "EPS",
    "MAX_PLAN_INSTANCES",
    "RateOf",
    "check_count",
    "fractional_count",
    "instances_needed",
    "smallest",
    "smallest_pool",
]

EPS = 1e-9
#: A pool's SLO-limited request rate (req/s) for a given number of instances.
RateOf = Callable[[int], float]
#: The largest instance count per phase a plan may need (a larger answer is a typo in the
#: target or the profile, or a deployment no planner of one pool should size).
MAX_PLAN_INSTANCES = 10_000


def instances_needed(rate_rps: float, tokens_per_request: float, instance_tps: float) -> float:
    """Fractional instance count (eqs. 5-6): rate * tokens per request / per-instance tok/s.

    >>> round(instances_needed(83333.33 / 6656, 6144, 25075.3), 3)
    3.068
    """
    if instance_tps <= 0:
        raise ConfigError(f"per-instance throughput must be > 0 tok/s, got {instance_tps}")
    return rate_rps * tokens_per_request / instance_tps


def too_many(phase: str, rate: float, one_rps: float) -> ConfigError:
    """The refusal of a plan beyond :data:`MAX_PLAN_INSTANCES`, with the reason."""
    return ConfigError(
        f"the target of {rate:.6g} req/s needs more than {MAX_PLAN_INSTANCES:,} {phase} "
        f"instances (one sustains {one_rps:.6g} req/s with the SLO met): check the target "
        f"rate (--tpm/--rps, or --time-scale/--trace-rps for a trace) and the profile's {phase} "
        "throughput; pdplan plans at most "
        f"{MAX_PLAN_INSTANCES:,} instances per phase"
    )


def check_count(phase: str, instances: float, rate: float) -> None:
    """Refuse a fractional count beyond :data:`MAX_PLAN_INSTANCES`.

    >>> check_count("decode", 12.5, 100.0)  # within the bound: nothing happens
    >>> check_count("decode", 20_000.0, 100.0)
    Traceback (most recent call last):
    pdplan.errors.ConfigError: the target of 100 req/s needs more than 10,000 decode ...
    """
    if instances > MAX_PLAN_INSTANCES:
        raise too_many(phase, rate, rate / instances)


def smallest(ok: Callable[[int], bool], start: int, limit: int) -> int | None:
    """The smallest k in 1..limit with ok(k), assuming ok is monotone (None if not even
    ``limit``): galloping from ``start`` (a good guess costs few calls), then bisection.

    >>> smallest(lambda k: k * k >= 50, 1, 100), smallest(lambda k: k * k >= 50, 40, 100)
    (8, 8)
    >>> smallest(lambda k: False, 5, 10) is None
    True
    """
    start = min(max(start, 1), limit)
    if ok(start):
        lo, hi, step = start, start, 1  # ok(hi); find the failing lower end
        while hi - step >= 1 and ok(hi - step):
            hi -= step
            step *= 2
        lo = max(hi - step, 0)  # ok(lo) is False (or lo == 0)
    else:
        lo, step = start, 1  # not ok(lo)
        hi = min(start + step, limit)
        while not ok(hi):
            if hi == limit:
                return None
            lo, step = hi, step * 2
            hi = min(start + step, limit)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


def smallest_pool(pool_rps: RateOf, rate: float, phase: str) -> int:
    """The smallest pool that carries ``rate`` (at most :data:`MAX_PLAN_INSTANCES`).

    >>> smallest_pool(lambda n: 3.0 * n, 10.0, "prefill")
    4
    """
    found = smallest(lambda n: pool_rps(n) >= rate * (1 - EPS), 1, MAX_PLAN_INSTANCES)
    if found is None:
        raise too_many(phase, rate, pool_rps(1))
    return found


def fractional_count(pool_rps: RateOf, rate: float, phase: str) -> tuple[int, float]:
    """The smallest whole pool and the fractional count the plan reports: the whole count
    less the share of the last instance the rate does not need (exact when the pool's rate is
    proportional to its size).

    >>> fractional_count(lambda n: 3.0 * n, 10.0, "decode")
    (4, 3.3333333333333335)
    """
    whole = smallest_pool(pool_rps, rate, phase)
    below = pool_rps(whole - 1) if whole > 1 else 0.0
    return whole, whole - 1 + (rate - below) / (pool_rps(whole) - below)
