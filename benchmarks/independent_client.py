"""Predicted against measured by an independent client: does pdplan's plan hold when someone
else's load generator measures the engine?

1. Profile the engine with pdplan (`pdplan profile all`: text prompts, a Poisson sweep run to
   `--precision`, decode batches), which records 90 % intervals.
2. Predict one instance's capacity with each planning model (paper, queueing, auto), with the
   range the profile's intervals allow:
   - prefill (one output token) under a mean TTFT SLO of `--mean-x` times the idle TTFT and a
     p90 TTFT SLO of `--p90-x` times it;
   - decode (`--osl` output tokens) under a mean TPOT SLO of `--tpot-x` times the batch-1 TPOT.
3. Measure the truth with `vllm bench serve` (random dataset, Poisson, a fresh seed per run)
   at rates around the `auto` prediction, each rate `--repeats` times, in shuffled order (so
   that drift spreads over the rates). The measured capacity is where the statistic crosses
   the SLO (linear between the rates), per repeat; its median and range over repeats.
4. Print predicted against measured per model, and write every run to `--out`.

    python benchmarks/independent_client.py --url http://127.0.0.1:8100 --isl 320 \\
        --vllm-python .venv-vllm/bin/python --tokenizer .tiny-llama [--repeats 3]
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from pdplan import SLO, Workload, load_profile, rate_allocation
from pdplan.engine.uncertainty import bounded_profile, has_intervals
from pdplan.engine.variability import engine_scv
from pdplan.schema.profile import Profile

ROOT = Path(__file__).parents[1]
MODELS = ("paper", "queueing", "auto")


def profile_engine(args: argparse.Namespace, out: Path) -> Profile:
    if not (out / "profile.yaml").exists():
        cmd = [
            sys.executable, "-m", "pdplan", "profile", "all", "--url", args.url,
            "--isl", str(args.isl), "--loads", "0.5,0.7,0.85", "--sweep-requests", "200",
            "--precision", args.precision, "--point-budget", args.point_budget,
            "--decode-isl", str(args.isl), "--osl", str(args.osl),
            "--batch", "1,2,4,8,16", "--rounds", "4", "--out", str(out),
        ]  # fmt: skip
        subprocess.run(cmd, check=True)
    return load_profile(out / "profile.yaml")


def predictions(profile: Profile, args: argparse.Namespace) -> dict[str, Any]:
    """Per SLO and model: the predicted one-instance capacity (req/s) and its range."""
    idle_s = profile.prefill.max_throughput[0].idle_ttft_s or profile.prefill.overhead_s
    tpot1_s = profile.decode.curves[0].points[0].tpot_ms / 1000
    cases = {
        "mean TTFT": (SLO(ttft_s=args.mean_x * idle_s, tpot_s=3600), 1, "prefill"),
        "p90 TTFT": (SLO(ttft_s=args.p90_x * idle_s, tpot_s=3600, ttft_stat="p90"), 1, "prefill"),
        "mean TPOT": (SLO(ttft_s=86_400, tpot_s=args.tpot_x * tpot1_s), args.osl, "decode"),
    }
    result: dict[str, Any] = {}
    for name, (slo, osl, phase) in cases.items():
        workload = Workload.from_rps(rate_rps=1.0, isl_tokens=args.isl, osl_tokens=osl)
        per_model = {}
        for model in MODELS:
            ends = []
            for p in (
                profile,
                bounded_profile(profile, "pessimistic"),
                bounded_profile(profile, "optimistic"),
            ):
                a = rate_allocation(p, workload, slo, 1, 1, model=model)  # type: ignore[arg-type]
                tps = a.prefill_max_total_tps if phase == "prefill" else a.decode_max_total_tps
                ends.append(tps / workload.tokens_per_request)
            per_model[model] = {"rps": ends[0], "low": ends[1], "high": ends[2]}
        objective = slo.ttft_s if phase == "prefill" else slo.tpot_s
        result[name] = {"objective_s": objective, "osl": osl, "models": per_model}
    result["intervals"] = has_intervals(profile)
    return result


def bench(args: argparse.Namespace, rate: float, osl: int, seed: int, path: Path) -> dict[str, Any]:
    if not path.exists():
        cmd = [
            args.vllm_python, str(ROOT / "benchmarks" / "vllm_bench_serve.py"),
            "--backend", "vllm", "--base-url", args.url, "--model", args.served_model,
            "--tokenizer", args.tokenizer, "--dataset-name", "random",
            "--random-input-len", str(args.isl), "--random-output-len", str(osl),
            "--random-range-ratio", "0", "--num-prompts", str(args.prompts),
            "--request-rate", f"{rate:.6g}", "--seed", str(seed), "--ignore-eos",
            "--percentile-metrics", "ttft,tpot", "--metric-percentiles", "50,90,99",
            "--save-result", "--result-dir", str(path.parent), "--result-filename", path.name,
        ]  # fmt: skip
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def crossing(points: list[tuple[float, float]], objective: float) -> tuple[float, str]:
    """The rate where a statistic (rising with the rate) crosses the objective, linear between
    the measured rates; with '>=' or '<' when it never crosses inside them."""
    points = sorted(points)
    if points[0][1] > objective:
        return points[0][0], "<"
    for (r0, v0), (r1, v1) in itertools.pairwise(points):
        if v0 <= objective < v1:
            return r0 + (r1 - r0) * (objective - v0) / (v1 - v0), ""
    return points[-1][0], ">="


def measure(args: argparse.Namespace, pred: dict[str, Any], out: Path) -> dict[str, Any]:
    """vllm bench serve at rates around the auto predictions, repeated, shuffled."""
    runs = []
    for name, osl, key in (("mean TTFT", 1, "ttft"), ("mean TPOT", args.osl, "tpot")):
        center = pred[name]["models"]["auto"]["rps"]
        for factor in args.factors:
            for repeat in range(args.repeats):
                runs.append((key, osl, round(center * factor, 4), repeat))
    random.Random(args.seed).shuffle(runs)
    results = []
    for i, (key, osl, rate, repeat) in enumerate(runs):
        seed = args.seed * 1000 + i
        path = out / "vllm-bench" / f"{key}-r{rate:g}-rep{repeat}.json"
        started = time.monotonic()
        data = bench(args, rate, osl, seed, path)
        results.append({"phase": key, "rate_rps": rate, "repeat": repeat, "seed": seed, **{
            k: data.get(k) for k in (
                "mean_ttft_ms", "p90_ttft_ms", "mean_tpot_ms", "p90_tpot_ms",
                "request_throughput", "completed", "duration",
            )
        }})  # fmt: skip
        print(
            f"[{i + 1}/{len(runs)}] {key} at {rate:.4g} req/s (repeat {repeat}): mean TTFT "
            f"{data['mean_ttft_ms']:.1f} ms, p90 TTFT {data['p90_ttft_ms']:.1f} ms, mean TPOT "
            f"{data['mean_tpot_ms']:.2f} ms ({time.monotonic() - started:.0f} s)",
            flush=True,
        )
    return {"runs": results}


def measured_capacity(
    measured: dict[str, Any], name: str, objective_s: float, args: argparse.Namespace
) -> tuple[list[float], str]:
    phase, field = {
        "mean TTFT": ("ttft", "mean_ttft_ms"),
        "p90 TTFT": ("ttft", "p90_ttft_ms"),
        "mean TPOT": ("tpot", "mean_tpot_ms"),
    }[name]
    found, flags = [], set()
    for repeat in range(args.repeats):
        points = [
            (r["rate_rps"], r[field] / 1000)
            for r in measured["runs"]
            if r["phase"] == phase and r["repeat"] == repeat
        ]
        rate, flag = crossing(points, objective_s)
        found.append(rate)
        flags.add(flag)
    return found, "".join(sorted(flags))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--isl", type=int, required=True)
    parser.add_argument("--osl", type=int, default=64)
    parser.add_argument("--vllm-python", required=True)
    parser.add_argument("--tokenizer", required=True)
    parser.add_argument("--served-model", default="tiny-llama")
    parser.add_argument("--prompts", type=int, default=600)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--factors", type=float, nargs="+", default=[0.7, 0.85, 1.0, 1.15, 1.3, 1.45]
    )
    parser.add_argument("--mean-x", type=float, default=3.0)
    parser.add_argument("--p90-x", type=float, default=4.0)
    parser.add_argument("--tpot-x", type=float, default=1.5)
    parser.add_argument("--precision", default="10%")
    parser.add_argument("--point-budget", default="4min")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", default="pdplan-independent-client")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    profile = profile_engine(args, out / "profile")
    pred = predictions(profile, args)
    (out / "predictions.json").write_text(json.dumps(pred, indent=1))
    measured = measure(args, pred, out)  # runs found in OUT/vllm-bench are not run again
    (out / "measured.json").write_text(json.dumps(measured, indent=1))
    print(
        f"\nISL {args.isl}; {len(measured['runs'])} vllm bench serve runs of {args.prompts} "
        f"prompts ({args.repeats} repeats per rate); {time.monotonic() - started:.0f} s in all"
    )
    point = profile.prefill.max_throughput[0]
    print(
        f"profile: TPmax {point.max_tps:,.0f} tok/s ({point.max_tps_low or 0:,.0f}.."
        f"{point.max_tps_high or 0:,.0f}), idle TTFT {(point.idle_ttft_s or 0) * 1000:.1f} ms, "
        f"TPmax drift {profile.prefill.tpmax_drift or 0:+.1%}; engine SCV: "
        f"{engine_scv(profile.prefill)[1]}"
    )
    print(f"{'SLO':<10}{'objective':>11}  {'model':<9}{'predicted req/s (range)':>28}  "
          f"{'measured req/s (range)':>26}  {'error':>7}")  # fmt: skip
    for name in ("mean TTFT", "p90 TTFT", "mean TPOT"):
        case = pred[name]
        truths, flag = measured_capacity(measured, name, case["objective_s"], args)
        truth = statistics.median(truths)
        for model in MODELS:
            p = case["models"][model]
            inside = (
                ""
                if p["low"] <= truth <= p["high"] or not pred["intervals"]
                else (" over" if p["low"] > truth else " under")
            )
            print(
                f"{name:<10}{case['objective_s'] * 1000:>9.1f}ms  {model:<9}"
                f"{p['rps']:>10.3f} ({p['low']:.3f}..{p['high']:.3f})  "
                f"{flag}{truth:>10.3f} ({min(truths):.3f}..{max(truths):.3f})  "
                f"{p['rps'] / truth - 1:>+7.0%}{inside}"
            )


if __name__ == "__main__":
    main()
