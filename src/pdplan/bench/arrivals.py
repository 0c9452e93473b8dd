"""Arrival schedules for open-loop load. Randomness comes from the caller's ``rng``."""

from __future__ import annotations

import random

__all__ = ["poisson_times_s"]


def poisson_times_s(rate_rps: float, count: int, rng: random.Random) -> list[float]:
    """Send times (seconds from start) of a Poisson process: exponential gaps, mean 1/rate.

    >>> times = poisson_times_s(10.0, 3, random.Random(1))
    >>> len(times), times == sorted(times)
    (3, True)
    """
    t, times = 0.0, []
    for _ in range(count):
        t += rng.expovariate(rate_rps)
        times.append(t)
    return times
