"""Does pdplan's client measure what a public benchmark client measures on the same server?

Runs vLLM's own serving benchmark (``vllm bench serve``, from the engine's Python) and
pdplan's closed loop with the same shape (random prompts of ISL tokens, OSL output tokens with
ignore_eos, fixed concurrency, same request count), alternating A B A B, and prints mean and
median TTFT and TPOT and output tokens/s of each, with the relative difference.

    python benchmarks/client_agreement.py --url http://127.0.0.1:8100 \\
        --vllm-python .venv-vllm/bin/python --tokenizer .tiny-llama
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import tempfile
from pathlib import Path

from pdplan.bench.session import Session

VLLM_BENCH = (
    "import argparse, sys, vllm.benchmarks.serve as s\n"
    "p = argparse.ArgumentParser(); s.add_cli_args(p); s.main(p.parse_args(sys.argv[1:]))\n"
)


def vllm_bench(args: argparse.Namespace, concurrency: int) -> dict[str, float]:
    out = Path(tempfile.mkdtemp(prefix="vllm-bench-"))
    cmd = [
        args.vllm_python,
        "-c",
        VLLM_BENCH,
        "--backend",
        "vllm",
        "--base-url",
        args.url,
        "--model",
        args.model,
        "--tokenizer",
        args.tokenizer,
        "--dataset-name",
        "random",
        "--random-input-len",
        str(args.isl),
        "--random-output-len",
        str(args.osl),
        "--num-prompts",
        str(args.requests),
        "--max-concurrency",
        str(concurrency),
        "--ignore-eos",
        "--save-result",
        "--result-dir",
        str(out),
        "--result-filename",
        "r.json",
        # A fresh seed per run: vllm bench's default seed repeats the same prompts in every
        # run, which the server's prefix cache then serves (measured: TTFT 10.3 ms instead
        # of 13.4 ms at concurrency 1).
        "--seed",
        str(random.randrange(1 << 30)),
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    result = json.loads((out / "r.json").read_text())
    return {
        "mean TTFT ms": result["mean_ttft_ms"],
        "median TTFT ms": result["median_ttft_ms"],
        "mean TPOT ms": result["mean_tpot_ms"],
        "median TPOT ms": result["median_tpot_ms"],
        "output tok/s": result["output_throughput"],
    }


async def pdplan_run(args: argparse.Namespace, concurrency: int) -> dict[str, float]:
    async with Session(args.url, Path(tempfile.mkdtemp(prefix="pdplan-agree-"))) as session:
        warm = await session.sequential("warm", args.isl, args.osl, 1, gap_s=0.0)
        request_s = (warm[0].t_end_s or 0.0) - warm[0].t_send_s
        stagger_s = request_s / concurrency if args.stagger else 0.0
        records = await session.closed_loop(
            "agree", args.isl, args.osl, concurrency, args.requests, stagger_s
        )
    ok = [r for r in records if r.ok]
    ttft = [r.ttft_s * 1000 for r in ok if r.ttft_s is not None]
    tpot = [r.tpot_s * 1000 for r in ok if r.tpot_s is not None]
    span = max(r.t_end_s or 0 for r in ok) - min(r.t_send_s for r in ok)
    return {
        "mean TTFT ms": statistics.fmean(ttft),
        "median TTFT ms": statistics.median(ttft),
        "mean TPOT ms": statistics.fmean(tpot),
        "median TPOT ms": statistics.median(tpot),
        "output tok/s": sum(r.completion_tokens or 0 for r in ok) / span,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--vllm-python", default=".venv-vllm/bin/python")
    parser.add_argument("--tokenizer", default=".tiny-llama")
    parser.add_argument("--model", default="tiny-llama")
    parser.add_argument("--isl", type=int, default=512)
    parser.add_argument("--osl", type=int, default=128)
    parser.add_argument("--requests", type=int, default=48)
    parser.add_argument("--concurrency", default="1,4,16")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--no-stagger",
        dest="stagger",
        action="store_false",
        help="start pdplan's workers together (lock-step) instead of staggered",
    )
    args = parser.parse_args()
    print(
        f"ISL {args.isl}, OSL {args.osl}, {args.requests} requests per run, "
        f"{args.repeats} runs per client, alternating"
    )
    print(f"{'concurrency':>11} {'metric':<15}{'vllm bench':>12}{'pdplan':>10}{'diff':>8}")
    for concurrency in (int(c) for c in args.concurrency.split(",")):
        theirs, ours = [], []
        for _ in range(args.repeats):
            theirs.append(vllm_bench(args, concurrency))
            ours.append(asyncio.run(pdplan_run(args, concurrency)))
        for name in theirs[0]:
            a = statistics.fmean(r[name] for r in theirs)
            b = statistics.fmean(r[name] for r in ours)
            print(f"{concurrency:>11} {name:<15}{a:>12.4g}{b:>10.4g}{(b - a) / a:>8.1%}")


if __name__ == "__main__":
    main()
