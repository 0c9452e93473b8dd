"""The balanced decode fluid against the simulator's least-loaded decode pool, on a bursty
trace with mixed output lengths."""

from __future__ import annotations

import random

import pytest

from pdplan import SLO, Workload, default_profile, size
from pdplan.engine.service_time import prefill_time_s
from pdplan.plan.trace import replay
from pdplan.quantiles import Distribution
from pdplan.queueing.decode_fluid import balanced_decode_tpots_s
from pdplan.schema.trace import Trace
from pdplan.sim.service import ServiceModel


def _trace(n: int) -> Trace:
    """Bursts: a quiet rate with a 4x busier stretch in the middle, 1-3 requests at once."""
    rng = random.Random(3)
    times: list[float] = []
    t = 0.0
    while len(times) < n:
        busy = n // 3 <= len(times) < 2 * n // 3
        t += rng.expovariate(8.0 if busy else 2.0)
        times.extend([t] * rng.randint(1, 3))
    times = times[:n]
    osl = [rng.choice((16, 64, 256, 700)) for _ in times]
    return Trace(tuple(times), (2048,) * n, tuple(osl))


@pytest.mark.parametrize("instances", [1, 3, 8])
def test_the_fluid_follows_the_simulated_pool(instances: int) -> None:
    # 1 instance: past its batch cap (requests wait, mean TPOT ~0.24 s); 3: batches of ~10,
    # TPOT ~14 ms; 8: nearly alone (12.8 ms)
    profile, trace = default_profile(), _trace(3000)
    workload = Workload.from_trace(trace, time_scale=1.0)
    plan = size(profile, workload, SLO(ttft_s=2.0, tpot_s=0.05))
    sim = replay(profile, plan, 40, instances)  # prefill never waits
    assert sim.tpot_s is not None
    service = ServiceModel.from_profile(profile, workload.isl_tokens, workload.osl_tokens)
    table = list(service.tpot_by_batch_s[1:])
    starts = [
        t + profile.prefill.overhead_s + prefill_time_s(profile.prefill, isl)
        for t, isl in zip(trace.arrival_s, trace.isl_tokens, strict=True)
    ]
    fluid = Distribution.of(balanced_decode_tpots_s(starts, trace.osl_tokens, instances, table))
    assert fluid is not None
    assert fluid.mean == pytest.approx(sim.tpot_s.mean, rel=0.02)
    assert fluid.p90 == pytest.approx(sim.tpot_s.p90, rel=0.03)
