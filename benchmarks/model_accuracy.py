"""Which planning model is right? Every model scored against the simulator on the same scenarios.

Prefill scenarios (TTFT-bound; decode made non-binding) cross request shapes from short chat
to long-context RAG, fixed / exponential / lognormal ISL, tight and loose TTFT SLOs, mean and
p90 statistics, independent queues (random routing) and one pooled queue, and targets needing
1 to ~60 instances. Decode scenarios (TPOT-bound; prefill non-binding) cross OSL, tight and
loose TPOT SLOs, least-loaded and random decode routing, mean and p90, small and large targets.

For each scenario and model it reports (a) the error of the model's sustainable throughput for
the allocation it plans, against the simulator's (bisection on the Poisson rate, same seed),
and (b) whether the model's smallest instance count is the true smallest (the simulator checks
counts around every model's answer). Prints one table per phase and model, and breakdowns.

    python benchmarks/model_accuracy.py [--requests 20000] [--csv out.csv]
"""

from __future__ import annotations

import argparse
import csv
import itertools
import math
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from pdplan import (
    SLO,
    Exponential,
    Fixed,
    InfeasibleSLOError,
    Lognormal,
    Plan,
    Workload,
    size,
)
from pdplan.io import parse_profile
from pdplan.schema.profile import Profile
from pdplan.sim import ClusterConfig, SimConfig, simulate
from pdplan.sim.capacity import max_rate

TPMAX = 20_000.0
OVERHEAD_S = 0.05
BATCHES = [1, 2, 4, 8, 16, 32, 64, 128, 256]
MODELS = ("paper", "queueing", "auto")


def tpot_ms(b: int) -> float:
    return 8.0 + 0.05 * b**1.3


def make_profile(
    shapes: list[tuple[int, int]], sweep: list[dict[str, float]] | None = None
) -> Profile:
    curves = [
        {
            "isl_tokens": isl,
            "osl_tokens": osl,
            "points": [
                {
                    "batch": b,
                    "tpot_ms": tpot_ms(b),
                    "tpot_p50_ms": tpot_ms(b),
                    "tpot_p90_ms": tpot_ms(b),
                    "tpot_p99_ms": tpot_ms(b),
                }
                for b in BATCHES
            ],
        }
        for isl, osl in shapes
    ]
    return parse_profile(
        {
            "schema_version": 1,
            "prefill": {
                "gpus_per_instance": 1,
                "overhead_s": OVERHEAD_S,
                "max_throughput": [
                    {"isl_tokens": 256, "max_tps": TPMAX},
                    {"isl_tokens": 32768, "max_tps": TPMAX},
                ],
                "ttft_vs_rate": sweep or [],
            },
            "decode": {"gpus_per_instance": 1, "curves": curves},
        }
    )


@dataclass
class Row:
    phase: str
    scenario: str
    model: str
    predicted_count: int
    true_count: int
    predicted_tps: float
    simulated_tps: float

    @property
    def error(self) -> float:
        return self.predicted_tps / self.simulated_tps - 1 if self.simulated_tps else math.inf


def sim_meets(
    profile: Profile, cluster: ClusterConfig, workload: Workload, slo: SLO, requests: int
) -> bool:
    r = simulate(
        profile, SimConfig(cluster=cluster, workload=workload, requests=requests, seed=7), slo
    )
    return r.meets_slo is True


def true_smallest(counts: list[int], ok: object) -> int | None:
    """Smallest count passing ``ok`` (monotone), searched around the models' answers; None
    when not found below 4x the largest answer (the SLO is beyond every model's reach)."""
    n = max(1, min(counts) - 1)
    while n > 1 and ok(n - 1):  # type: ignore[operator]
        n -= 1
    limit = 4 * max(counts) + 4
    while not ok(n):  # type: ignore[operator]
        n += 1 if n < 16 else max(1, n // 8)
        if n > limit:
            return None
    while n > 1 and ok(n - 1):  # refine after a coarse step
        n -= 1
    return n


def score(
    phase: str,
    name: str,
    plans: dict[str, Plan],
    true_count: int,
    profile: Profile,
    cluster: Callable[[int], ClusterConfig],
    workload: Workload,
    slo: SLO,
    requests: int,
) -> list[Row]:
    """Each model's plan for one phase: its count and promised throughput, against the
    simulator's sustainable throughput for that count."""
    rows = []
    for model, plan in plans.items():
        a = plan.allocation
        count = a.prefill_instances if phase == "prefill" else a.decode_instances
        promised = a.prefill_max_total_tps if phase == "prefill" else a.decode_max_total_tps
        cap = max_rate(profile, cluster(count), workload, slo, requests=requests, seed=7)
        rows.append(Row(phase, name, model, count, true_count, promised, cap.max_total_tps))
    return rows


DISTS = {
    "fixed": lambda m: Fixed(tokens=m),
    "exponential": lambda m: Exponential(mean_tokens=m),
    "lognormal1": lambda m: Lognormal(mean_tokens=m, sigma=1.0),
}


def measure_sweep(
    shapes: list[tuple[int, int]], engine_scv: float, requests: int = 300
) -> list[dict[str, float]]:
    """What ``pdplan profile prefill`` (default loads, 300 requests per point) records on a
    simulated engine whose prefill service time has this SCV: the realistic sweep noise."""
    bare = make_profile(shapes)
    isl = 6144
    points = []
    for load in (0.5, 0.7, 0.85):
        rate = load * TPMAX / isl
        config = SimConfig(
            cluster=ClusterConfig(
                prefill_instances=1, decode_instances=1, prefill_service_scv=engine_scv
            ),
            workload=Workload.from_rps(rate_rps=rate, isl_tokens=isl, osl_tokens=2),
            requests=requests,
            warmup_share=0.0,
            seed=int(load * 100),
        )
        r = simulate(bare, config)
        points.append(
            {
                "isl_tokens": isl,
                "rate_rps": rate,
                "ttft_mean_s": r.ttft_s.mean,
                "ttft_p50_s": r.ttft_s.p50,
                "ttft_p90_s": r.ttft_s.p90,
                "ttft_p99_s": r.ttft_s.p99,
                "requests": r.requests_measured,
            }
        )
    return points


# Simulated engines: name -> (prefill service SCV, whether the profile carries a Poisson sweep
# measured on that engine). Without a sweep, auto assumes exponential service like the paper.
ENGINES = {"deterministic": (0.0, False), "exponential+sweep": (1.0, True)}


def prefill_one(
    profile: Profile,
    engine: str,
    k: int,
    isl: int,
    osl: int,
    dist: str,
    slack: float,
    stat: str,
    routing: str,
    requests: int,
) -> list[Row]:
    """One TTFT-bound scenario: every model's plan against the simulator."""
    service = isl / TPMAX
    isl_dist = DISTS[dist](isl)
    slo = SLO(ttft_s=OVERHEAD_S + slack * service, tpot_s=10.0, ttft_stat=stat)  # type: ignore[arg-type]
    rate = (1 / service) * (1.6 if k % 2 == 0 else 24.0) * (0.55 if slack < 5 else 0.85)
    workload = Workload.from_rps(isl=isl_dist, osl_tokens=osl, rate_rps=rate)
    decode_n = math.ceil(rate * (osl - 1) * tpot_ms(64) / 1000 / 64) + 1  # batch ~64
    sim_routing = routing
    plans = {}
    for model in MODELS:
        try:
            plans[model] = size(
                profile,
                workload,
                slo,
                model=model,  # type: ignore[arg-type]
                prefill_routing=routing if model != "paper" else "random",
            )  # type: ignore[arg-type]
        except InfeasibleSLOError:
            continue

    def cluster(m: int) -> ClusterConfig:
        return ClusterConfig(
            prefill_instances=m,
            decode_instances=decode_n,
            prefill_routing=sim_routing,  # type: ignore[arg-type]
            prefill_service_scv=ENGINES[engine][0],  # the truth, not the profile's fit
        )

    counts = [p.allocation.prefill_instances for p in plans.values()]
    if not counts:
        return []
    true_m = true_smallest(
        counts, lambda m: sim_meets(profile, cluster(m), workload, slo, requests)
    )
    print(
        f"  prefill {k}: {engine} ISL {isl} {dist} {stat} {routing} slack {slack:g}: "
        f"models {counts}, true {true_m}",
        file=sys.stderr,
        flush=True,
    )
    if true_m is None:
        return []
    name = f"ISL {isl} {dist} TTFT {slack:g}S {stat} {routing} rate {rate:.3g} {engine}"
    return score("prefill", name, plans, true_m, profile, cluster, workload, slo, requests)


def prefill_scenarios(requests: int) -> list[Row]:
    shapes = [(512, 128), (6144, 512), (16384, 256)]
    profile = make_profile(shapes)
    grid = itertools.product(shapes, DISTS, (2.5, 15.0), ("mean", "p90"), ("random", "pooled"))
    rows: list[Row] = []
    for k, ((isl, osl), dist, slack, stat, routing) in enumerate(grid):
        rows += prefill_one(
            profile, "deterministic", k, isl, osl, dist, slack, stat, routing, requests
        )
    # A noisy engine, profiled like pdplan does it: fixed ISL, so only the engine varies.
    swept = make_profile(shapes, measure_sweep(shapes, ENGINES["exponential+sweep"][0]))
    grid = itertools.product(shapes, (2.5, 15.0), ("mean", "p90"), ("random", "pooled"))
    for k, ((isl, osl), slack, stat, routing) in enumerate(grid):
        rows += prefill_one(
            swept, "exponential+sweep", k, isl, osl, "fixed", slack, stat, routing, requests
        )
    return rows


def decode_one(
    profile: Profile,
    isl: int,
    osl: int,
    slo_ms: float,
    routing: str,
    stat: str,
    scale: float,
    requests: int,
) -> list[Row]:
    """One TPOT-bound scenario: every model's plan against the simulator."""
    slo = SLO(ttft_s=100.0, tpot_s=slo_ms / 1000, tpot_stat=stat)  # type: ignore[arg-type]
    b_star = max(b for b in range(1, 257) if tpot_ms(b) <= slo_ms)
    rate = b_star / (tpot_ms(b_star) / 1000) / osl * scale * 0.9
    workload = Workload.from_rps(isl_tokens=isl, osl_tokens=osl, rate_rps=rate)
    prefill_m = max(1, math.ceil(rate * isl / TPMAX * 2))
    plans = {
        model: size(
            profile,
            workload,
            slo,
            model=model,  # type: ignore[arg-type]
            decode_routing=routing if model != "paper" else "least_loaded",
        )  # type: ignore[arg-type]
        for model in MODELS
    }

    def cluster(n: int) -> ClusterConfig:
        return ClusterConfig(
            prefill_instances=prefill_m,
            decode_instances=n,
            prefill_routing="pooled",
            decode_routing=routing,  # type: ignore[arg-type]
            prefill_service_scv=0.0,
        )

    counts = [p.allocation.decode_instances for p in plans.values()]
    true_n = true_smallest(
        counts, lambda n: sim_meets(profile, cluster(n), workload, slo, requests)
    )
    print(
        f"  decode: OSL {osl} {routing} {stat} slo {slo_ms:g} x{scale:g}: models {counts}, "
        f"true {true_n}",
        file=sys.stderr,
        flush=True,
    )
    if true_n is None:
        return []
    name = f"OSL {osl} TPOT {slo_ms:g}ms {stat} {routing} x{scale:g}"
    return score("decode", name, plans, true_n, profile, cluster, workload, slo, requests)


def decode_scenarios(requests: int) -> list[Row]:
    shapes = [(1024, 128), (1024, 512)]
    profile = make_profile(shapes)
    grid = itertools.product(
        shapes, (12.0, 20.0), ("least_loaded", "random"), ("mean", "p90"), (3.0, 20.0)
    )
    rows: list[Row] = []
    for (isl, osl), slo_ms, routing, stat, scale in grid:
        rows += decode_one(profile, isl, osl, slo_ms, routing, stat, scale, requests)
    return rows


def report(rows: list[Row], title: str) -> None:
    print(f"\n{title}")
    print(
        f"{'model':<10}{'scenarios':>10}{'median |err|':>14}{'worst |err|':>13}{'bias':>8}"
        f"{'exact':>8}{'too few':>9}{'too many':>10}"
    )
    for model in MODELS:
        mine = [r for r in rows if r.model == model]
        if not mine:
            continue
        errs = [r.error for r in mine]
        abs_errs = [abs(e) for e in errs]
        exact = sum(r.predicted_count == r.true_count for r in mine) / len(mine)
        few = sum(r.predicted_count < r.true_count for r in mine) / len(mine)
        many = sum(r.predicted_count > r.true_count for r in mine) / len(mine)
        print(
            f"{model:<10}{len(mine):>10}{statistics.median(abs_errs):>14.1%}"
            f"{max(abs_errs):>13.1%}{statistics.median(errs):>+8.1%}{exact:>8.0%}"
            f"{few:>9.0%}{many:>10.0%}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--csv", help="write every scenario row here")
    args = parser.parse_args()
    start = time.perf_counter()
    prefill = prefill_scenarios(args.requests)
    decode = decode_scenarios(args.requests)
    rows = prefill + decode
    scenarios = len({(r.phase, r.scenario) for r in rows})
    print(
        f"{scenarios} scenarios, {len(rows)} model predictions, simulator referee "
        f"({args.requests:,} requests per run), {time.perf_counter() - start:.0f} s"
    )
    print(
        "err = predicted / simulated sustainable throughput - 1 for the allocation the model "
        "plans; exact/too few/too many: its instance count against the true smallest"
    )
    report(prefill, "Prefill (TTFT-bound)")
    report(decode, "Decode (TPOT-bound)")
    report(rows, "All")
    for label, key in (
        ("engine", lambda r: r.scenario.split()[-1]),
        ("ISL distribution", lambda r: r.scenario.split()[2]),
        ("TTFT statistic", lambda r: r.scenario.split()[5]),
        ("prefill routing", lambda r: r.scenario.split()[6]),
    ):
        for value in sorted({key(r) for r in prefill}):
            report([r for r in prefill if key(r) == value], f"Prefill, {label} = {value}")
    for value in ("least_loaded", "random"):
        report([r for r in decode if value in r.scenario], f"Decode, routing = {value}")
    if args.csv:
        with open(args.csv, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=[*asdict(rows[0]), "error"])
            writer.writeheader()
            for r in rows:
                writer.writerow({**asdict(r), "error": r.error})


if __name__ == "__main__":
    main()
