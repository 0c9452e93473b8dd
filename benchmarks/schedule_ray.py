"""How `pdplan schedule` scales with workers: one process, local worker processes, and a Ray
cluster of two nodes (started here on this machine, one CPU each), on the same trace; the
answers must be identical.

Every replay the schedule search makes after the first sizing (the steps' local replays, the
trim rounds, the repairs' whole-day replays, each policy's knob search) is independent and
seeded, so it runs wherever a worker is. The script prints the wall time of each, the speed-up,
and from the one-process and two-worker times the serial and parallel parts (T(N) = serial +
parallel / N, Amdahl) with what N nodes would give. Needs `pip install 'pdplan[ray]'`.

    python benchmarks/schedule_ray.py [--trace DIR_OR_FILE] [--slice 0:21600] [--no-policies]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVEGEN = ROOT.parent / "shared" / "traces" / "servegen" / "data" / "reason" / "deepseek-r1"


def run(cmd: list[str]) -> tuple[float, dict[str, object]]:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {' '.join(cmd)}\n{done.stderr.strip()}")
    return wall, json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trace", default=str(SERVEGEN))
    parser.add_argument("--slice", default="0:21600", help="--trace-slice (default 6 h)")
    parser.add_argument("--no-policies", action="store_true")
    args = parser.parse_args()
    pdplan = shutil.which("pdplan") or sys.exit("pdplan is not installed on PATH")
    import ray
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    base = [pdplan, "schedule", "--trace", args.trace, "--trace-slice", args.slice]
    base += ["--ttft", "2s", "--tpot", "40ms", "--scale-up-delay", "1min", "--json"]
    if args.no_policies:
        base.append("--no-policies")
    runs = {
        "one process (--jobs 1)": [*base, "--jobs", "1"],
        "2 local workers (--jobs 2)": [*base, "--jobs", "2"],
        "2 Ray nodes (--ray)": [*base, "--ray", cluster.address],
    }
    results = {}
    try:
        for name, cmd in runs.items():
            wall, out = run(cmd)
            results[name] = (wall, out)
            print(f"{name:<28} {wall:7.1f} s", flush=True)
    finally:
        ray.shutdown()
        cluster.shutdown()
    outputs = [out for _, out in results.values()]
    same = all(o == outputs[0] for o in outputs)
    t1 = results["one process (--jobs 1)"][0]
    t2 = results["2 Ray nodes (--ray)"][0]
    parallel = max(2 * (t1 - t2), 0.0)
    serial = t1 - parallel
    print(f"identical answers: {same}")
    print(f"speed-up on 2 Ray nodes: {t1 / t2:.2f}x; serial part {serial:.0f} s, parallel part")
    print(f"{parallel:.0f} s of one process: N nodes would take about serial + parallel / N:")
    for n in (4, 8, 16):
        t = serial + parallel / n
        print(f"  {n:>2} nodes: {t:6.0f} s ({t1 / t:.1f}x)")
    if not same:
        sys.exit("the answers differ")


if __name__ == "__main__":
    main()
