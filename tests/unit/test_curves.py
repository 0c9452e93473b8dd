from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pdplan.engine.curves import MonotoneCurve, interpolate
from pdplan.errors import ConfigError


def test_interpolation_between_points_and_clamping() -> None:
    assert interpolate([1, 3], [10.0, 30.0], 2).value == pytest.approx(20.0)
    low, high = interpolate([1, 3], [10.0, 30.0], 0), interpolate([1, 3], [10.0, 30.0], 9)
    assert (low.value, low.clamped, high.value, high.clamped) == (10.0, True, 30.0, True)
    assert not interpolate([1, 3], [10.0, 30.0], 3).clamped


def test_non_monotone_measurement_is_repaired_upwards() -> None:
    curve = MonotoneCurve.from_points([1, 2, 3], [10.0, 9.0, 12.0])
    assert curve.repaired
    assert curve.ys == (10.0, 10.0, 12.0)


def test_points_must_increase() -> None:
    with pytest.raises(ConfigError, match="strictly increasing"):
        MonotoneCurve.from_points([2, 1], [1.0, 2.0])


def test_largest_x_at_most() -> None:
    curve = MonotoneCurve.from_points([10, 20, 30, 40], [12.8, 16.4, 18.8, 21.6])
    assert curve.largest_x_at_most(20.0) == pytest.approx(30 + 10 * 1.2 / 2.8)
    assert curve.largest_x_at_most(12.0) is None
    assert curve.largest_x_at_most(99.0) == 40.0


@given(
    ys=st.lists(st.floats(min_value=0.1, max_value=100), min_size=2, max_size=8),
    y=st.floats(min_value=0.1, max_value=100),
)
def test_inverse_respects_the_bound(ys: list[float], y: float) -> None:
    curve = MonotoneCurve.from_points(list(range(1, len(ys) + 1)), ys)
    x = curve.largest_x_at_most(y)
    if x is None:
        assert curve.ys[0] > y
    else:
        assert curve.at(x).value <= y + 1e-9
