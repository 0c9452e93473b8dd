"""How fast `pdplan size` answers on the embedded default, from a cold process.

Runs the installed `pdplan` command N times (table and --json) and prints the median and
worst wall time, plus bare `python -c pass` as the floor. Usage:

    python benchmarks/cli_startup.py [--runs 20]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time


def wall_times_s(cmd: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    pdplan = shutil.which("pdplan") or sys.exit("pdplan is not installed on PATH")
    cases = {
        "python -c pass (floor)": [sys.executable, "-c", "pass"],
        "pdplan size": [pdplan, "size"],
        "pdplan size --json": [pdplan, "size", "--json"],
        "pdplan --help": [pdplan, "--help"],
    }
    print(f"{'command':<26} {'median_s':>9} {'max_s':>7}   ({args.runs} runs each)")
    for name, cmd in cases.items():
        times = wall_times_s(cmd, args.runs)
        print(f"{name:<26} {statistics.median(times):>9.3f} {max(times):>7.3f}")


if __name__ == "__main__":
    main()
