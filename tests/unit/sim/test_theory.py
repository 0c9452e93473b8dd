"""The simulator against queueing theory at drawn operating points (Ciw's style: rates and
variabilities drawn, not a few fixed points). One prefill queue with gamma service of SCV
``cs2`` under Poisson arrivals is M/G/1: the mean sojourn is Pollaczek-Khinchine's
``S + rho S (1 + cs2) / (2 (1 - rho))``; two pooled instances are M/M/2 (Erlang C).

The examples are derandomized (the same drawn points every run): a 60,000-request run's mean
TTFT is a random variable whose spread grows as (1 - rho)^-2. Measured over 8 seeds: SD 3.5 %
at rho 0.6 / cs2 2, 4.7 % at 0.7 / 2, 5.4 % at 0.78 / 1.25, with a -3 % bias from starting
empty; a fresh hypothesis draw at rho 0.78 missed the 8 % band by chance (CI). The band tests
the simulator's queue, and rho stays <= 0.7 where the band is ~2 SD of the noise."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.sim.test_simulator import TPMAX, flat_profile

from pdplan import Workload
from pdplan.queueing import mmc_mean_sojourn_s
from pdplan.schema.lengths import Fixed
from pdplan.sim import ClusterConfig, SimConfig, simulate

SERVICE_S = 1000 / TPMAX


@settings(max_examples=12, deadline=None, derandomize=True, database=None)
@given(rho=st.floats(min_value=0.2, max_value=0.7), cs2=st.floats(min_value=0.0, max_value=2.0))
def test_one_prefill_queue_is_mg1(rho: float, cs2: float) -> None:
    w = Workload.from_rps(rate_rps=rho / SERVICE_S, isl=Fixed(tokens=1000), osl=Fixed(tokens=2))
    cluster = ClusterConfig(prefill_instances=1, decode_instances=1, prefill_service_scv=cs2)
    result = simulate(
        flat_profile(), SimConfig(cluster=cluster, workload=w, requests=60_000, seed=3)
    )
    assert result.ttft_s is not None
    expected = SERVICE_S + rho * SERVICE_S * (1 + cs2) / (2 * (1 - rho))
    assert result.ttft_s.mean == pytest.approx(expected, rel=0.08)


@settings(max_examples=8, deadline=None, derandomize=True, database=None)
@given(rho=st.floats(min_value=0.3, max_value=0.7))
def test_a_pooled_queue_of_two_is_mm2(rho: float) -> None:
    rate = 2 * rho / SERVICE_S
    w = Workload.from_rps(rate_rps=rate, isl=Fixed(tokens=1000), osl=Fixed(tokens=2))
    cluster = ClusterConfig(
        prefill_instances=2, decode_instances=1, prefill_routing="pooled", prefill_service_scv=1.0
    )
    result = simulate(
        flat_profile(), SimConfig(cluster=cluster, workload=w, requests=60_000, seed=5)
    )
    assert result.ttft_s is not None
    expected = mmc_mean_sojourn_s(rate, 1 / SERVICE_S, 2)
    assert result.ttft_s.mean == pytest.approx(expected, rel=0.08)
