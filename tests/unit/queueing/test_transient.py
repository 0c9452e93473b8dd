"""The transient Lindley recursion against direct sample paths: exact for one server, the
average over routing and noise draws for several."""

from __future__ import annotations

import random
import statistics

import pytest

from pdplan.queueing.transient import noise_atoms, random_routing_sojourns


def _bursty_trace(n: int, seed: int, ticks_per_s: float) -> tuple[list[float], list[float]]:
    """Poisson ticks, 1-4 requests at each (simultaneous arrivals), lengths 0.2-1.0 s: work
    arrives at 1.5 s per tick."""
    rng = random.Random(seed)
    times, service, t = [], [], 0.0
    while len(times) < n:
        t += rng.expovariate(ticks_per_s)
        for _ in range(rng.randint(1, 4)):
            times.append(t)
            service.append(rng.uniform(0.2, 1.0))
    return times[:n], service[:n]


def _sojourns(
    times: list[float], service: list[float], servers: int, rng: random.Random, scv: float = 0.0
) -> list[float]:
    """One sample path: each request to a uniformly drawn FCFS server."""
    free = [0.0] * servers
    out = []
    for t, s in zip(times, service, strict=True):
        k = int(rng.random() * servers)
        work = s * rng.gammavariate(1 / scv, scv) if scv > 0 else s
        free[k] = max(free[k], t) + work
        out.append(free[k] - t)
    return out


def test_one_server_is_the_sample_path_itself() -> None:
    times, service = _bursty_trace(3000, 1, 0.55)  # load 0.83
    path = _sojourns(times, service, 1, random.Random(0))
    step = 0.002
    got = random_routing_sojourns(times, service, 1, noise_atoms(0.0), step)
    assert got.count[0] == 3000 and got.held == 0
    assert got.mean_s(0.0)[0] == pytest.approx(statistics.fmean(path), abs=step)
    p90 = statistics.quantiles(path, n=10)[-1]
    # the mean is exact; a quantile within a few steps (each service's split between two
    # grid bins spreads a long busy period a little)
    assert got.quantile_s(0.9, 0.1)[0] == pytest.approx(0.1 + p90, abs=3 * step)


@pytest.mark.parametrize("scv", [0.0, 1.0])
def test_several_servers_are_the_mean_over_routing_and_noise(scv: float) -> None:
    times, service = _bursty_trace(1000, 2, 1.65)
    servers = 3  # load 0.83 per server: long queues, bursts of simultaneous arrivals
    rng = random.Random(7)
    paths = [_sojourns(times, service, servers, rng, scv) for _ in range(200)]
    pooled = [s for path in paths for s in path]
    means = [statistics.fmean(path) for path in paths]
    error = statistics.stdev(means) / len(means) ** 0.5  # the Monte Carlo's own error
    got = random_routing_sojourns(times, service, servers, noise_atoms(scv), 0.005)
    assert abs(got.mean_s(0.0)[0] - statistics.fmean(means)) < 4 * error + 0.005
    p90 = statistics.quantiles(pooled, n=10)[-1]
    assert got.quantile_s(0.9, 0.0)[0] == pytest.approx(p90, rel=0.04)


def test_groups_split_the_requests() -> None:
    times, service = _bursty_trace(600, 3, 1.0)
    group_of = [0 if t < times[300] else 1 for t in times]
    both = random_routing_sojourns(times, service, 2, noise_atoms(0.0), 0.005)
    split = random_routing_sojourns(
        times, service, 2, noise_atoms(0.0), 0.005, group_of=group_of, groups=2
    )
    assert split.count.sum() == 600
    means = split.mean_s(0.0)
    overall = (means[0] * split.count[0] + means[1] * split.count[1]) / 600
    assert overall == pytest.approx(both.mean_s(0.0)[0], rel=1e-9)


def test_a_backlog_past_the_grid_is_held_and_flagged() -> None:
    times = [i * 0.1 for i in range(400)]  # 10 req/s on one server of 2 req/s
    held = random_routing_sojourns(times, [0.5] * 400, 1, noise_atoms(0.0), 0.01, max_wait_s=2.0)
    free = random_routing_sojourns(times, [0.5] * 400, 1, noise_atoms(0.0), 0.01)
    assert held.held > 1 and free.held == 0
    assert held.mean_s(0.0)[0] < free.mean_s(0.0)[0]  # a lower bound
    assert free.mean_s(0.0)[0] == pytest.approx(0.5 + 0.4 * 399 / 2, rel=1e-3)
