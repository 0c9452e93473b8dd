from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pdplan.errors import ConfigError, UnstableQueueError
from pdplan.queueing.mm1 import (
    mm1_max_arrival_rate_rps,
    mm1_mean_sojourn_s,
    mm1_mean_wait_s,
    mm1_sojourn_quantile_s,
)


def test_textbook_values() -> None:
    # Kleinrock vol. 1: lambda=8, mu=10 -> T = 0.5 s, Wq = 0.4 s, median = ln 2 / 2.
    assert mm1_mean_sojourn_s(8.0, 10.0) == pytest.approx(0.5)
    assert mm1_mean_wait_s(8.0, 10.0) == pytest.approx(0.4)
    assert mm1_sojourn_quantile_s(8.0, 10.0, 0.5) == pytest.approx(math.log(2) / 2)


def test_unstable_queue_names_rho() -> None:
    with pytest.raises(UnstableQueueError, match=r"rho=1\.25"):
        mm1_mean_sojourn_s(12.5, 10.0)


def test_max_rate_below_service_time_is_refused() -> None:
    with pytest.raises(ConfigError, match="service time"):
        mm1_max_arrival_rate_rps(10.0, 0.1)


rates = st.floats(min_value=0.01, max_value=1e4)
loads = st.floats(min_value=0.0, max_value=0.99)


@given(mu=rates, rho=st.floats(min_value=0.001, max_value=0.99))
def test_max_rate_inverts_mean_sojourn(mu: float, rho: float) -> None:
    lam = rho * mu
    t = mm1_mean_sojourn_s(lam, mu)
    assert mm1_max_arrival_rate_rps(mu, t) == pytest.approx(lam, rel=1e-6, abs=1e-9 * mu)


@given(mu=rates, rho1=loads, rho2=loads)
def test_wait_grows_with_load(mu: float, rho1: float, rho2: float) -> None:
    lo, hi = sorted((rho1, rho2))
    assert mm1_mean_wait_s(lo * mu, mu) <= mm1_mean_wait_s(hi * mu, mu)


@given(mu=rates, rho=loads, q=st.floats(min_value=0.01, max_value=0.99))
def test_quantile_is_exponential_cdf_inverse(mu: float, rho: float, q: float) -> None:
    t = mm1_sojourn_quantile_s(rho * mu, mu, q)
    assert 1 - math.exp(-(mu - rho * mu) * t) == pytest.approx(q, rel=1e-9)
