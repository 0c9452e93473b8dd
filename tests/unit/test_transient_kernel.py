"""The compiled transient recursion (``pdplan[fast]``) is the numpy one: every group's count,
mean sojourn, histogram and held mass equal within 1e-9, on bursty arrivals with engine noise,
SLO groups and a held backlog."""

from __future__ import annotations

import random

import numpy as np
import pytest

from pdplan.queueing import transient, transient_kernel
from pdplan.queueing.transient import noise_atoms, random_routing_sojourns

pytestmark = pytest.mark.skipif(not transient_kernel.available(), reason="numba not installed")


def _trace(n: int, seed: int) -> tuple[list[float], list[float], list[int]]:
    rng = random.Random(seed)
    t, times, service, groups = 0.0, [], [], []
    for _ in range(n):
        t += rng.expovariate(3.0) if rng.random() < 0.9 else 0.0  # bursts of simultaneous ones
        times.append(t)
        service.append(rng.uniform(0.05, 0.6))
        groups.append(min(int(t // 60), 3))
    return times, service, groups


@pytest.mark.parametrize(
    ("servers", "scv", "max_wait_s", "distribution"),
    [(1, 0.0, None, True), (2, 0.5, None, False), (1, 2.0, 4.0, True), (3, 0.2, 2.0, True)],
)
def test_the_compiled_recursion_is_the_numpy_one(
    monkeypatch: pytest.MonkeyPatch,
    servers: int,
    scv: float,
    max_wait_s: float | None,
    distribution: bool,
) -> None:
    times, service, groups = _trace(3000, seed=servers)
    kw = {
        "group_of": groups,
        "groups": 4,
        "max_wait_s": max_wait_s,
        "distribution": distribution,
    }
    runs = []
    for compiled_from in (10**12, 0):  # numpy, then the kernel
        monkeypatch.setattr(transient, "COMPILED_FROM", compiled_from)
        runs.append(
            random_routing_sojourns(times, service, servers, noise_atoms(scv), 0.01, **kw)  # type: ignore[arg-type]
        )
    ref, fast = runs
    assert np.array_equal(ref.count, fast.count)
    np.testing.assert_allclose(fast.sojourn_sum_s, ref.sojourn_sum_s, rtol=1e-9)
    assert fast.held == pytest.approx(ref.held, rel=1e-9, abs=1e-12)
    if max_wait_s is not None:
        assert ref.held > 0  # the hold was exercised
    if distribution:
        assert ref.hist is not None and fast.hist is not None
        width = min(ref.hist.shape[1], fast.hist.shape[1])
        np.testing.assert_allclose(fast.hist[:, :width], ref.hist[:, :width], rtol=1e-9, atol=1e-9)
        assert not ref.hist[:, width:].any() and not fast.hist[:, width:].any()
        assert fast.quantile_s(0.9, 0.1) == ref.quantile_s(0.9, 0.1)
