"""Measured curves: piecewise-linear interpolation that is monotone and says when it clamps.

Profiles hold a few measured points (TPmax per ISL, TPOT per decode batch). Between points
pdplan interpolates linearly. Outside the measured range it does **not** extrapolate: it
clamps to the nearest measured point and reports that it did, so that the caller can warn.

A non-decreasing curve (TPOT against batch) is made so by a running maximum over the
measured points (a conservative repair of measurement noise: a TPOT never drops when the batch
grows); :attr:`MonotoneCurve.repaired` tells whether the repair changed anything.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from pdplan.errors import ConfigError

__all__ = ["Lookup", "MonotoneCurve", "interpolate"]


@dataclass(frozen=True, slots=True)
class Lookup:
    """The value of a curve at x, and whether x lay outside the measured range."""

    value: float
    clamped: bool


def _check_points(xs: Sequence[float], ys: Sequence[float], name: str) -> None:
    if len(xs) == 0 or len(xs) != len(ys):
        raise ConfigError(f"{name}: need at least one point and as many x as y values")
    if any(b <= a for a, b in itertools.pairwise(xs)):
        raise ConfigError(f"{name}: x values must be strictly increasing, got {list(xs)}")
    if not all(math.isfinite(v) for v in (*xs, *ys)):
        raise ConfigError(f"{name}: every value must be finite")


def interpolate(xs: Sequence[float], ys: Sequence[float], x: float) -> Lookup:
    """Piecewise-linear interpolation; clamps (and says so) outside [xs[0], xs[-1]].

    >>> interpolate([10, 20], [1.0, 3.0], 15)
    Lookup(value=2.0, clamped=False)
    >>> interpolate([10, 20], [1.0, 3.0], 40)
    Lookup(value=3.0, clamped=True)
    """
    _check_points(xs, ys, "curve")
    if x <= xs[0]:
        return Lookup(float(ys[0]), clamped=x < xs[0])
    if x >= xs[-1]:
        return Lookup(float(ys[-1]), clamped=x > xs[-1])
    i = bisect.bisect_right(xs, x)
    x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
    return Lookup(y0 + (y1 - y0) * (x - x0) / (x1 - x0), clamped=False)


@dataclass(frozen=True)
class MonotoneCurve:
    """A non-decreasing piecewise-linear curve through measured points.

    :ivar xs: measured x values, strictly increasing
    :ivar ys: running maximum of the measured y values (non-decreasing)
    :ivar repaired: True if some measured y was below an earlier one and was raised

    >>> c = MonotoneCurve.from_points([10, 20, 30], [12.8, 16.4, 18.8])
    >>> c.at(25).value
    17.6
    >>> c.largest_x_at_most(18.8)
    30.0
    """

    xs: tuple[float, ...]
    ys: tuple[float, ...]
    repaired: bool

    @classmethod
    def from_points(cls, xs: Sequence[float], ys: Sequence[float]) -> MonotoneCurve:
        _check_points(xs, ys, "curve")
        running: list[float] = []
        for y in ys:
            running.append(max(y, running[-1]) if running else float(y))
        repaired = any(r != y for r, y in zip(running, ys, strict=True))
        return cls(tuple(float(x) for x in xs), tuple(running), repaired)

    def at(self, x: float) -> Lookup:
        """y at x, linear between points, clamped (and flagged) outside them."""
        return interpolate(self.xs, self.ys, x)

    def largest_x_at_most(self, y_max: float) -> float | None:
        """The largest x in the measured range whose interpolated y is <= y_max.

        Returns None when even the first point exceeds y_max, and xs[-1] when the whole
        measured range is within y_max (the caller decides whether that is a cap).
        """
        if self.ys[0] > y_max:
            return None
        if self.ys[-1] <= y_max:
            return self.xs[-1]
        i = bisect.bisect_right(self.ys, y_max)  # first point with y > y_max
        x0, x1, y0, y1 = self.xs[i - 1], self.xs[i], self.ys[i - 1], self.ys[i]
        return x0 + (x1 - x0) * (y_max - y0) / (y1 - y0)
