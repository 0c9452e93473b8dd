"""The aggregated fluid model (pdplan.capacity.aggregated) against the aggregated simulator
(pdplan.sim.aggregated): mean and p90 TTFT and TPOT of one instance at 30-80 % of its stable
rate, for a few step-time models, token budgets and request shapes.

err = model / simulated - 1. The simulator steps through every engine step with the same
step-time model; it is the referee (the plan's aggregated count is simulation-checked).

    python benchmarks/aggregated_accuracy.py [--requests 20000]
"""

from __future__ import annotations

import argparse
import math
import statistics

from pdplan.capacity.aggregated import aggregated_point
from pdplan.schema.aggregated import AggregatedProfile, StepTimeModel
from pdplan.schema.workload import SLO, Workload
from pdplan.sim.aggregated import simulate_aggregated

CASES = [
    # (name, step model (ms, us/prompt token, us/decode, ns/context token), budget, ISL, OSL)
    ("prompt-heavy", (5.0, 20.0, 100.0, 0.0), 2048, 1024, 128),
    ("small budget", (5.0, 20.0, 100.0, 0.0), 512, 1024, 128),
    ("decode-heavy", (5.0, 20.0, 100.0, 0.0), 8192, 256, 512),
    ("context cost", (8.0, 30.0, 50.0, 20.0), 4096, 2048, 256),
]
LOADS = (0.3, 0.6, 0.8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    args = parser.parse_args()
    mean_slo = SLO(ttft_s=1e4, tpot_s=1e3)
    p90_slo = SLO(ttft_s=1e4, tpot_s=1e3, ttft_stat="p90", tpot_stat="p90")
    print(f"{'case':13} {'load':>4} | {'TTFT mean':>22} | {'TTFT p90':>22} | "
          f"{'TPOT mean':>22} | {'TPOT p90':>22}")  # fmt: skip
    errs: dict[str, list[float]] = {"ttft mean": [], "ttft p90": [], "tpot mean": [],
                                    "tpot p90": []}  # fmt: skip
    unstable = 0
    for name, (a, b, c, d), budget, isl, osl in CASES:
        step = StepTimeModel(base_ms=a, prefill_token_us=b, decode_seq_us=c, context_token_ns=d)
        profile = AggregatedProfile(
            gpus_per_instance=1, max_batched_tokens=budget, max_seqs=1024, step=step
        )
        k = (b * isl + (osl - 1) * (c + d * (isl + osl / 2) / 1e3)) * 1e-6
        for load in LOADS:
            rate = load / k
            w = Workload.from_rps(isl_tokens=isl, osl_tokens=osl, rate_rps=rate)
            m = aggregated_point(profile, w, rate, mean_slo)
            m90 = aggregated_point(profile, w, rate, p90_slo)
            s = simulate_aggregated(profile, w, 1, requests=args.requests)
            assert s.ttft_s is not None and s.tpot_s is not None
            if not math.isfinite(m.step_s):  # beyond the model's stable rate
                unstable += 1
                print(
                    f"{name:13} {load:4.1f} | model: unstable (token budget); simulated mean "
                    f"TTFT {s.ttft_s.mean:.1f} s over {args.requests} requests",
                    flush=True,
                )
                continue
            cells = []
            for key, model, sim in (
                ("ttft mean", m.ttft_s, s.ttft_s.mean),
                ("ttft p90", m90.ttft_s, s.ttft_s.p90),
                ("tpot mean", m.tpot_s, s.tpot_s.mean),
                ("tpot p90", m90.tpot_s, s.tpot_s.p90),
            ):
                err = model / sim - 1
                errs[key].append(err)
                cells.append(f"{model * 1e3:8.1f} {sim * 1e3:8.1f} {err:+5.0%}")
            print(f"{name:13} {load:4.1f} | " + " | ".join(cells), flush=True)
    compared = len(CASES) * len(LOADS) - unstable
    print(
        f"\nmodel ms, simulated ms, err = model / simulated - 1; over the {compared} scenarios "
        f"the model calls stable ({unstable} it calls unstable):"
    )
    for key, values in errs.items():
        med = statistics.median(abs(v) for v in values)
        print(f"  {key:9}: median |err| {med:.0%}, range {min(values):+.0%}..{max(values):+.0%}")


if __name__ == "__main__":
    main()
