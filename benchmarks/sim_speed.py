"""Simulator speed: pdplan's request-granularity event loop against the usual way.

The usual way is a SimPy model with one process per request and one event per decode
iteration (every decode step of every instance is simulated). Both simulate the same 4P8D
cluster (the paper's profile, ISL 6144 / OSL 512, random prefill routing, least-loaded decode)
at 80 % of its saturated rate, in the same run; the script prints simulated requests per
second of wall time, the ratio, and both models' mean TTFT/TPOT to show they agree.

    python benchmarks/sim_speed.py [--requests 1000000] [--baseline-requests 20000]
"""

from __future__ import annotations

import argparse
import random
import time

import simpy

from pdplan import Workload, default_profile
from pdplan.sim import ClusterConfig, SimConfig, simulate
from pdplan.sim.capacity import upper_bound_rps
from pdplan.sim.service import ServiceModel

ISL, OSL, M, N = 6144, 512, 4, 8


def baseline(rate: float, requests: int, seed: int, service: ServiceModel) -> tuple[float, float]:
    """SimPy, one event per decode iteration. Returns (mean TTFT s, mean TPOT ms)."""
    env = simpy.Environment()
    rng = random.Random(seed)
    prefill = [simpy.Resource(env, capacity=1) for _ in range(M)]
    prefill_s = service.prefill_time_s(ISL)
    tpot = service.tpot_by_batch_s
    max_b = service.max_batch
    decoders: list[dict[str, object]] = []
    ttfts: list[float] = []
    tpots: list[float] = []

    def decoder(state: dict[str, object]) -> simpy.events.ProcessGenerator:
        active: list[list[float]] = state["active"]  # type: ignore[assignment]
        waiting: list[list[float]] = state["waiting"]  # type: ignore[assignment]
        while True:
            while waiting and len(active) < max_b:
                active.append(waiting.pop(0))
            if not active:
                state["wake"] = env.event()
                yield state["wake"]  # type: ignore[misc]
                continue
            yield env.timeout(tpot[len(active)])  # one decode iteration
            for req in active:
                req[1] += 1  # one more token
            for req in [r for r in active if r[1] >= OSL - 1]:
                active.remove(req)
                tpots.append((env.now - req[0]) / (OSL - 1) * 1000)

    for _ in range(N):
        state: dict[str, object] = {"active": [], "waiting": [], "wake": None}
        decoders.append(state)
        env.process(decoder(state))

    def request(arrival: float) -> simpy.events.ProcessGenerator:
        server = prefill[rng.randrange(M)]
        with server.request() as slot:
            yield slot
            yield env.timeout(prefill_s)
        yield env.timeout(service.overhead_s)
        ttfts.append(env.now - arrival)
        target = min(decoders, key=lambda d: len(d["active"]) + len(d["waiting"]))  # type: ignore[arg-type]
        target["waiting"].append([env.now, 0])  # type: ignore[union-attr]
        wake = target["wake"]
        if wake is not None and not wake.triggered:  # type: ignore[union-attr]
            wake.succeed()  # type: ignore[union-attr]

    def source() -> simpy.events.ProcessGenerator:
        for _ in range(requests):
            yield env.timeout(rng.expovariate(rate))
            env.process(request(env.now))

    env.process(source())
    env.run()
    skip = requests // 10
    return sum(ttfts[skip:]) / len(ttfts[skip:]), sum(tpots[skip:]) / len(tpots[skip:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--baseline-requests", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    profile = default_profile()
    # deterministic prefill service, as in the SimPy baseline
    cluster = ClusterConfig(prefill_instances=M, decode_instances=N, prefill_service_scv=0.0)
    shape = Workload.from_rps(rate_rps=1.0, isl_tokens=ISL, osl_tokens=OSL)
    rate = 0.8 * upper_bound_rps(profile, cluster, shape)
    service = ServiceModel.from_profile(profile, ISL, OSL)
    print(f"4P8D, ISL {ISL} / OSL {OSL}, Poisson {rate:.3f} req/s (80 % of the saturated rate)")

    start = time.perf_counter()
    result = simulate(
        profile,
        SimConfig(
            cluster=cluster,
            workload=shape.with_rate(rate),
            requests=args.requests,
            seed=args.seed,
        ),
    )
    ours_s = time.perf_counter() - start
    ours_rps = args.requests / ours_s
    print(
        f"pdplan   {args.requests:>9,} requests in {ours_s:7.2f} s = {ours_rps:>9,.0f} req/s"
        f"   mean TTFT {result.ttft_s.mean:.3f} s, mean TPOT {result.tpot_s.mean * 1e3:.2f} ms"
    )

    start = time.perf_counter()
    ttft, tpot_ms = baseline(rate, args.baseline_requests, args.seed, service)
    base_s = time.perf_counter() - start
    base_rps = args.baseline_requests / base_s
    print(
        f"SimPy    {args.baseline_requests:>9,} requests in {base_s:7.2f} s = {base_rps:>9,.0f}"
        f" req/s   mean TTFT {ttft:.3f} s, mean TPOT {tpot_ms:.2f} ms"
    )
    print(f"speed-up {ours_rps / base_rps:.1f}x (requests simulated per second of wall time)")


if __name__ == "__main__":
    main()
