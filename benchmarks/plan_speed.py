"""Planning speed at every scale: time and peak memory of `size`, `size --trace` and `simulate`
on a stress class of profiles and traces.

Profiles (written here, synthetic, stated):

- ``embedded``: the embedded paper profile (ISL 6,144, decode batches to 60);
- ``dense-4gpu``: a large dense model on 4 GPUs per instance, KV capacity 1.5 M tokens, a
  decode curve measured to batch 1,024 (TPOT 8 ms + 0.04 ms per sequence), so that a 40 ms
  TPOT objective runs decode batches in the hundreds;
- ``long-context``: prompts to 128 k tokens, prefill throughput falling with the ISL, KV
  capacity 2 M tokens.

Traces (pdplan CSV, generated with a seed): gamma inter-arrivals of SCV 4 (bursty),
lognormal lengths (chat-like: ISL median 1,024, OSL median 200; for ``long-context`` ISL
median 8 k, clipped to 128 k), at a rate that keeps a few instances per phase busy; sizes
10 k, 20 k, 100 k, 1.3 M and 2 M requests (``--sizes``; default 20 k, 100 k, 1.3 M).

For each pair it runs, as a separate process each time (cold start included), with
``--repeats`` repeats: ``pdplan size`` (the trace's mean rate and mean lengths), ``pdplan size
--trace`` and ``pdplan simulate --trace`` on the allocation ``size --trace`` recommends, and
prints the median wall time with its min-max spread and the peak resident memory (the largest
over the repeats) of each process.

    python benchmarks/plan_speed.py [--sizes 10k,100k] [--profiles dense-4gpu] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZES = {"10k": 10_000, "20k": 20_000, "100k": 100_000, "1.3M": 1_300_000, "2M": 2_000_000}
SLO = {
    "embedded": ["--ttft", "2s", "--tpot", "20ms"],
    "dense-4gpu": ["--ttft", "2s", "--tpot", "40ms"],
    "long-context": ["--ttft", "10s", "--tpot", "40ms"],
}
#: Mean request rate of each profile's traces (req/s): a few instances per phase.
RATE_RPS = {"embedded": 6.0, "dense-4gpu": 60.0, "long-context": 3.0}


def _curve(points: list[tuple[int, float]], indent: str) -> str:
    return "\n".join(f"{indent}- {{batch: {b}, tpot_ms: {t:.2f}}}" for b, t in points)


def write_profiles(root: Path) -> dict[str, Path | None]:
    dense = [(b, 8 + 0.04 * b) for b in (1, 8, 16, 32, 64, 128, 256, 384, 512, 768, 1024)]
    (root / "dense-4gpu.yaml").write_text(
        f"""schema_version: 2
metadata:
  model: stress dense model (synthetic)
  engine: vllm
  hardware: 4 GPUs per instance
  source: benchmarks/plan_speed.py, synthetic
prefill:
  gpus_per_instance: 4
  overhead_s: 0.05
  max_throughput:
    - {{isl_tokens: 1024, max_tps: 30000}}
    - {{isl_tokens: 8192, max_tps: 24000}}
decode:
  gpus_per_instance: 4
  kv_capacity_tokens: 1500000
  curves:
    - isl_tokens: 1024
      osl_tokens: 256
      points:
{_curve(dense, "        ")}
""",
        encoding="utf-8",
    )
    long = [(b, 12 + 0.1 * b) for b in (1, 4, 8, 16, 32, 64, 128, 256)]
    (root / "long-context.yaml").write_text(
        f"""schema_version: 2
metadata:
  model: stress long-context model (synthetic)
  engine: vllm
  hardware: 8 GPUs per instance
  source: benchmarks/plan_speed.py, synthetic
prefill:
  gpus_per_instance: 8
  overhead_s: 0.1
  max_throughput:
    - {{isl_tokens: 1024, max_tps: 40000}}
    - {{isl_tokens: 16384, max_tps: 30000}}
    - {{isl_tokens: 131072, max_tps: 12000}}
decode:
  gpus_per_instance: 8
  kv_capacity_tokens: 2000000
  curves:
    - isl_tokens: 8192
      osl_tokens: 256
      points:
{_curve(long, "        ")}
""",
        encoding="utf-8",
    )
    return {
        "embedded": None,
        "dense-4gpu": root / "dense-4gpu.yaml",
        "long-context": root / "long-context.yaml",
    }


def write_trace(path: Path, requests: int, rate_rps: float, long_context: bool, seed: int) -> None:
    """Gamma (SCV 4) arrivals at ``rate_rps``, lognormal lengths."""
    rng = random.Random(seed)
    shape = 1 / 4
    isl_median, isl_max = (8192, 131_072) if long_context else (1024, 32_768)
    t = 0.0
    with path.open("w", encoding="utf-8") as out:
        out.write("arrival_s,isl_tokens,osl_tokens\n")
        for _ in range(requests):
            t += rng.gammavariate(shape, 1 / (shape * rate_rps))
            isl = min(isl_max, max(16, int(rng.lognormvariate(math.log(isl_median), 0.8))))
            osl = min(4096, max(2, int(rng.lognormvariate(math.log(200), 0.9))))
            out.write(f"{t:.4f},{isl},{osl}\n")


#: Runs one command and prints its peak resident memory (its own, the only child) last on
#: stderr.
_PEAK_WRAPPER = (
    "import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
    "sys.exit(code)"
)


def run(cmd: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS MB and stdout of one process."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _PEAK_WRAPPER, *cmd], capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - start
    *err, peak_kb = done.stderr.strip().splitlines() or ["0"]
    if done.returncode not in (0, 3):  # 3: an SLO no allocation meets, a real answer
        sys.exit(f"failed ({done.returncode}): {' '.join(cmd)}\n{' '.join(err)}")
    return wall, int(peak_kb) / 1024, done.stdout


def timed(cmd: list[str], repeats: int) -> tuple[list[float], float, str]:
    walls, peaks, out = [], [], ""
    for _ in range(repeats):
        wall, peak, out = run(cmd)
        walls.append(wall)
        peaks.append(peak)
    return walls, max(peaks), out


def fmt_time(walls: list[float]) -> str:
    return f"{statistics.median(walls):7.2f} s ({min(walls):.2f}-{max(walls):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20k,100k,1.3M", help="of " + ",".join(SIZES))
    parser.add_argument("--profiles", default="embedded,dense-4gpu,long-context")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--commands", default="size,size-trace,simulate")
    args = parser.parse_args()
    pdplan = shutil.which("pdplan") or sys.exit("pdplan is not installed on PATH")
    commands = args.commands.split(",")
    work = Path(tempfile.mkdtemp(prefix="plan-speed-"))
    profiles = write_profiles(work)
    print(f"{'profile':<13} {'trace':>6} {'command':<14} {'wall (min-max)':>24} {'peak MB':>8}")
    print("(wall: median and min-max over the repeats; peak MB: the process's largest RSS)")
    for name in args.profiles.split(","):
        profile = profiles[name]
        prof = [] if profile is None else ["--profile", str(profile)]
        for size in args.sizes.split(","):
            trace = work / f"{name}-{size}.csv"
            write_trace(trace, SIZES[size], RATE_RPS[name], name == "long-context", args.seed)
            rows: list[tuple[str, list[float], float]] = []
            plan_cmd = [pdplan, "size", *prof, "--trace", str(trace), *SLO[name], "--json"]
            walls, peak, out = timed(plan_cmd, args.repeats)
            plan = json.loads(out)
            if "size" in commands:  # the same workload as a rate: mean rate and lengths
                w = plan["workload"]
                cmd = [pdplan, "size", *prof, "--rps", f"{w['trace']['mean_rate_rps']:.6g}"]
                cmd += ["--isl", str(round(w["isl"]["mean_tokens"])), "--osl"]
                cmd += [str(round(w["osl"]["mean_tokens"])), *SLO[name], "--json"]
                s_walls, s_peak, _ = timed(cmd, args.repeats)
                rows.append(("size", s_walls, s_peak))
            if "size-trace" in commands:
                rows.append(("size --trace", walls, peak))
            if "simulate" in commands:
                alloc = plan["allocation"]
                cmd = [pdplan, "simulate", *prof, "--trace", str(trace), *SLO[name], "--json"]
                cmd += ["--prefill", str(alloc["prefill_instances"])]
                cmd += ["--decode", str(alloc["decode_instances"])]
                m_walls, m_peak, _ = timed(cmd, args.repeats)
                rows.append(("simulate", m_walls, m_peak))
            for command, w, p in rows:
                print(
                    f"{name:<13} {size:>6} {command:<14} {fmt_time(w):>24} {p:>8,.0f}", flush=True
                )
            trace.unlink()
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
