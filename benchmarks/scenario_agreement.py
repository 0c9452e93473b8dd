"""Planner against simulator on the same scenario: the planned capacity of the planned
allocation beside the simulator's, for the scenarios of tests/unit/sim/test_scenario.py
(prefix hits, attention-DP groups, percentiles, lognormal ISL, bursty arrivals, pooled
prefill, decode-bound with bursts), plus the held batch (the paper's decode rule) where decode
binds. The test asserts each within 5 %; this prints the figures.

    python benchmarks/scenario_agreement.py [--requests 20000]
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path
from types import ModuleType

from pdplan import size
from pdplan.plan.rate import rate_allocation
from pdplan.plan.verify import cluster_for
from pdplan.sim.capacity import max_rate

TESTS = Path(__file__).parents[1] / "tests" / "unit" / "sim" / "test_scenario.py"


def cases() -> ModuleType:
    spec = importlib.util.spec_from_file_location("test_scenario", TESTS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    args = parser.parse_args()
    print(f"{'scenario':26} {'plan':>6} {'planned':>12} {'simulated':>12} {'error':>7}  binds")
    for name, (profile, workload, slo, kw) in cases().CASES.items():
        plan = size(profile, workload, slo, **kw)
        m, n = plan.allocation.prefill_instances, plan.allocation.decode_instances
        planned = rate_allocation(profile, workload, slo, m, n, **kw)
        sim = max_rate(profile, cluster_for(plan, m, n), workload, slo, requests=args.requests)
        error = planned.max_total_tps / sim.max_total_tps - 1
        line = (
            f"{name:26} {plan.allocation.name:>6} {planned.max_total_tps:>8,.0f} tok/s "
            f"{sim.max_total_tps:>8,.0f} tok/s {error:>+7.1%}  {planned.binding}/{sim.binding}"
        )
        if planned.binding == "decode" and kw.get("decode_routing", "least_loaded") != "random":
            held = rate_allocation(profile, workload, slo, m, n, model="paper")
            line += f"; held batch (paper) {held.max_total_tps / sim.max_total_tps - 1:+.1%}"
        print(line)


if __name__ == "__main__":
    main()
