"""Repeatability of `pdplan profile` on one server: TPmax and TPOT over several runs.

Each run measures from scratch (fresh output directory): prefill TPmax at two ISLs with a
fixed concurrency, and the decode curve at three batch sizes. Prints every run, the mean, the
standard deviation and the coefficient of variation (CV).

    python benchmarks/profile_repeatability.py --url http://127.0.0.1:8100 [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from pathlib import Path

from pdplan.bench import profiler
from pdplan.bench.decode import DecodeSettings
from pdplan.bench.prefill import PrefillSettings


async def one_run(url: str, isls: tuple[int, ...], batches: tuple[int, ...]) -> dict[str, float]:
    out = Path(tempfile.mkdtemp(prefix="pdplan-repeat-"))
    prefill = await profiler.run_prefill(
        url, out, PrefillSettings(isls=isls, concurrency=4, requests=64, idle_requests=8)
    )
    decode = await profiler.run_decode(
        url, out, DecodeSettings(isl_tokens=512, osl_tokens=128, batches=batches, rounds=4)
    )
    row = {f"TPmax@ISL{p['isl_tokens']} tok/s": p["max_tps"] for p in prefill["max_throughput"]}
    row |= {
        f"idle TTFT@ISL{p['isl_tokens']} ms": p["idle_ttft_s"] * 1000
        for p in prefill["max_throughput"]
    }
    for p in decode["curves"][0]["points"]:
        row[f"TPOT@B{p['batch']} ms"] = p["tpot_ms"]
        row[f"out tok/s@B{p['batch']}"] = p["output_tps"]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows = [asyncio.run(one_run(args.url, (512, 1024), (1, 4, 16))) for _ in range(args.runs)]
    names = list(rows[0])
    header = "".join(f"{f'run {i + 1}':>10}" for i in range(len(rows)))
    print(f"{'metric':<24}{header}{'mean':>10}{'stdev':>9}{'CV':>7}")
    for name in names:
        values = [r[name] for r in rows]
        mean, sd = statistics.fmean(values), statistics.stdev(values)
        cells = "".join(f"{v:>10.4g}" for v in values)
        print(f"{name:<24}{cells}{mean:>10.4g}{sd:>9.3g}{sd / mean:>7.1%}")


if __name__ == "__main__":
    main()
