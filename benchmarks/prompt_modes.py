"""Token-id prompts against text the server tokenizes (and chat): what the front end's
per-request work adds to the idle TTFT and to the queueing under load.

For each round, and within it each mode in turn (interleaved, so that drift hits every mode
alike): ``--idle`` sequential requests (the zero-load TTFT), then ``--requests`` Poisson
arrivals at ``--load`` of the engine's saturated prefill rate (measured once with token ids
at the start; the same rate for every mode). Prints per mode the idle TTFT, the mean TTFT
under load and the mean wait (TTFT under load minus idle), each as the median over rounds
with the range, and the differences against ids.

    python benchmarks/prompt_modes.py --url http://127.0.0.1:8100 --isl 512 [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from pdplan.bench.prefill import PrefillSettings, profile_prefill
from pdplan.bench.prompts import PROMPT_MODES, PromptMode
from pdplan.bench.session import Session
from pdplan.schema.arrivals import Poisson


async def tpmax_rps(url: str, isl: int, out: Path) -> float:
    settings = PrefillSettings(
        isls=(isl,), concurrency=2, requests=48, min_duration_s=5, drift_check=False
    )
    async with Session(url, out, prompt_mode="ids") as session:
        part = await profile_prefill(session, settings)
    return part.max_throughput[0].max_tps / isl


async def one(
    url: str, out: Path, mode: PromptMode, isl: int, rate: float, args: argparse.Namespace, k: int
) -> dict[str, float]:
    async with Session(url, out, prompt_mode=mode) as session:
        idle = await session.sequential(f"{mode}/{k}/idle", isl, 1, args.idle, gap_s=0.1)
        times = Poisson().times_s(rate, args.requests, random.Random(f"{args.seed}/{k}"))
        loaded = await session.open_loop(f"{mode}/{k}/load", isl, 1, times)
    idle_s = statistics.fmean(r.ttft_s for r in idle if r.ok and r.ttft_s is not None)
    load_s = statistics.fmean(r.ttft_s for r in loaded if r.ok and r.ttft_s is not None)
    return {"idle_s": idle_s, "load_s": load_s, "wait_s": load_s - idle_s}


def row(name: str, values: list[float], base: list[float] | None) -> str:
    med = statistics.median(values)
    text = f"{name:<8}{med * 1e3:>9.2f} ms ({min(values) * 1e3:.2f}..{max(values) * 1e3:.2f})"
    if base is not None:
        text += f"  {med / statistics.median(base) - 1:+.0%} vs ids"
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--isl", type=int, default=512)
    parser.add_argument("--load", type=float, default=0.7)
    parser.add_argument("--idle", type=int, default=20)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", help="write every measurement here")
    args = parser.parse_args()
    started = time.monotonic()
    out = Path(tempfile.mkdtemp(prefix="pdplan-prompt-modes-"))
    mu = asyncio.run(tpmax_rps(args.url, args.isl, out / "tpmax"))
    rate = args.load * mu
    results: dict[str, list[dict[str, float]]] = {m: [] for m in PROMPT_MODES}
    for k in range(args.rounds):
        for mode in PROMPT_MODES:
            got = asyncio.run(one(args.url, out / mode, mode, args.isl, rate, args, k))
            results[mode].append(got)
            print(
                f"round {k} {mode:<5} " + " ".join(f"{n} {v * 1e3:.2f} ms" for n, v in got.items())
            )
    print(
        f"\nISL {args.isl}, {args.rounds} rounds, Poisson at {rate:.3g} req/s ({args.load:.0%} of "
        f"{mu:.3g} req/s saturated, ids), {args.requests} requests per point, "
        f"{time.monotonic() - started:.0f} s"
    )
    for key, title in (
        ("idle_s", "idle TTFT"),
        ("load_s", "mean TTFT under load"),
        ("wait_s", "mean wait (load - idle)"),
    ):
        print(f"\n{title} (median over rounds, range):")
        base = [r[key] for r in results["ids"]]
        for mode in PROMPT_MODES:
            values = [r[key] for r in results[mode]]
            print(row(mode, values, None if mode == "ids" else base))
    if args.json:
        Path(args.json).write_text(
            json.dumps({"args": vars(args), "rate_rps": rate, "results": results}, indent=1)
        )


if __name__ == "__main__":
    main()
