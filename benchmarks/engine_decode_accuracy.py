"""Decode models against a real engine: predicted and measured sustainable decode throughput.

One engine instance, a decode profile measured on it (``pdplan profile decode``), a TPOT SLO.
Each decode model predicts the largest request rate whose TPOT statistic meets the SLO:

- ``paper``: the batch B* whose TPOT meets the SLO, held constantly: ``B* / TPOT(B*) / OSL``;
- ``poisson``: the batch fluctuating under Poisson arrivals (``--plan-model queueing
  --decode-routing random``; exactly the situation of one instance fed by Poisson arrivals);
- ``auto``: the default model under least-loaded routing: one instance has nothing to
  balance, so the batch fluctuation applies, capped by the profile's measured output tok/s.

Then ``pdplan loadtest`` offers open-loop Poisson load at multiples of the paper's rate and the
measured capacity is where the TPOT statistic crosses the SLO (linear between the last
passing and the first failing step). The TTFT SLO is set loose: decode is what is tested.

    python benchmarks/engine_decode_accuracy.py --url http://127.0.0.1:8100 \\
        --profile run/profile.yaml --isl 512 --osl 128 --tpot 5ms --stat mean
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
from pathlib import Path

from pdplan import SLO, Workload, load_profile
from pdplan.plan import rate as planner
from pdplan.quantiles import Stat
from pdplan.units import parse_duration_s


def predicted_rps(
    profile_path: str, isl: int, osl: int, tpot_s: float, stat: Stat
) -> dict[str, float]:
    profile = load_profile(profile_path)
    workload = Workload.from_rps(isl_tokens=isl, osl_tokens=osl, rate_rps=1.0)
    slo = SLO(ttft_s=1e3, tpot_s=tpot_s, tpot_stat=stat)
    out = {}
    for name, model, routing in [
        ("paper", "paper", "least_loaded"),
        ("poisson", "queueing", "random"),
        ("auto", "auto", "least_loaded"),
    ]:
        plan = planner.size(profile, workload, slo, model=model, decode_routing=routing)  # type: ignore[arg-type]
        out[name] = plan.decode.effective_output_tps / osl
    return out


def crossing_rps(steps: list[dict[str, object]], tpot_s: float, stat: str) -> float | None:
    """Achieved rate where the TPOT statistic crosses the SLO, linear between the steps."""
    points = sorted(
        (float(s["achieved_rps"]), float(s["tpot_s"][stat]))  # type: ignore[index]
        for s in steps
        if not s["failed"] and s["tpot_s"]  # None: no multi-token request measured
    )
    for (r0, t0), (r1, t1) in itertools.pairwise(points):
        if t0 <= tpot_s < t1:
            return r0 + (tpot_s - t0) * (r1 - r0) / (t1 - t0)
    if points and points[-1][1] <= tpot_s:
        return None  # never crossed: offer more load
    return points[0][0] if points else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--profile", required=True)
    parser.add_argument("--isl", type=int, default=512)
    parser.add_argument("--osl", type=int, default=128)
    parser.add_argument("--tpot", default="5ms")
    parser.add_argument("--stat", default="mean", choices=["mean", "p50", "p90", "p99"])
    parser.add_argument("--sweep", default="0.5,0.7,0.8,0.9,1.0,1.1,1.2,1.4")
    parser.add_argument("--duration", default="30s")
    parser.add_argument("--out", default="pdplan-decode-accuracy")
    args = parser.parse_args()
    tpot_s = parse_duration_s(args.tpot, "--tpot")
    predicted = predicted_rps(args.profile, args.isl, args.osl, tpot_s, args.stat)
    base = predicted["paper"]
    cmd = [
        sys.executable, "-m", "pdplan", "loadtest", "--url", args.url,
        "--rps", f"{base:.6g}", "--isl", str(args.isl), "--osl", str(args.osl),
        "--ttft", "1000s", "--tpot", args.tpot, "--stat", args.stat,
        "--duration", args.duration, "--sweep", args.sweep, "--out", args.out, "--json",
    ]  # fmt: skip
    print("measuring:", " ".join(cmd[2:]), file=sys.stderr)
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 3):
        sys.exit(f"loadtest failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    steps = json.loads(done.stdout)["steps"]
    print(f"{'x':>5}{'offered':>9}{'achieved':>10}{'TPOT ' + args.stat:>12}{'out tok/s':>11}")
    for s in steps:
        print(
            f"{s['multiplier']:>5g}{s['offered_rps']:>9.2f}{s['achieved_rps']:>10.2f}"
            f"{s['tpot_s'][args.stat] * 1000:>10.2f}ms{s['achieved_rps'] * args.osl:>11.0f}"
        )
    measured = crossing_rps(steps, tpot_s, args.stat)
    if measured is None:
        print("the TPOT statistic never crossed the SLO: widen --sweep")
        return
    print(
        f"\nmeasured capacity {measured:.2f} req/s = {measured * args.osl:,.0f} output tok/s "
        f"({args.stat} TPOT <= {args.tpot})"
    )
    print(f"{'model':<10}{'req/s':>8}{'out tok/s':>11}{'error':>8}")
    for name, rps in predicted.items():
        print(f"{name:<10}{rps:>8.2f}{rps * args.osl:>11,.0f}{rps / measured - 1:>+8.0%}")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "decode_accuracy.json").write_text(
        json.dumps({"measured_rps": measured, "predicted_rps": predicted, "args": vars(args)})
    )


if __name__ == "__main__":
    main()
