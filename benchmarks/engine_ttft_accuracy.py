"""Queueing models against a real engine: predicted and measured TTFT under Poisson load.

Each RUN is one ``pdplan profile prefill --loads ...`` measurement (an output directory with
``parts/prefill.json``, or a ``profile.yaml``): TPmax and idle TTFT per ISL, then open-loop
Poisson steps at several utilizations. Every sweep point is predicted, mean and p90, with

- ``paper``: M/M/1 (the paper's model);
- ``M/D/1``: fixed ISL, deterministic service (``--plan-model queueing`` without sweep evidence);
- ``fitted``: M/G/1 with the engine's effective SCV fitted on the other points
  (``--plan-model queueing``/``auto`` on a profile with a sweep; pdplan.engine.variability);

``TTFT = overhead + sojourn(rate, S = ISL / TPmax)``. Two ways:

- ``loo``: within a run, each point from that run's TPmax, overhead and the SCV fitted on
  the run's other points (the queue model alone);
- ``cross``: each run's points from every other run (what a plan made from an earlier
  profile meets: the queue model plus the engine's drift between runs).

Beside each measured mean, the 90 % band of the mean TTFT that one run of the same length
shows when M/D/1 is exactly right (Lindley's recursion, starting empty like a profiler
step): a measured mean outside it is an engine effect, not sampling noise.

A directory's overhead is the mean of ``idle TTFT - ISL / TPmax`` over its ISLs (as
``pdplan profile`` assembles it, without a P->D transfer).

    python benchmarks/engine_ttft_accuracy.py examples/profiles/vllm-cpu-tiny-llama.yaml
    python benchmarks/engine_ttft_accuracy.py run1/ run2/ run3/ --detail
"""

from __future__ import annotations

import argparse
import random
import statistics
from pathlib import Path

from pdplan import load_profile
from pdplan.bench.assemble import prefill_profile
from pdplan.engine.curves import interpolate
from pdplan.engine.variability import fit_engine_scv
from pdplan.queueing.sojourn import PrefillKind, sojourn_stat_s
from pdplan.schema.parts import PrefillPart
from pdplan.schema.profile import PrefillProfile, TtftRatePoint

MODELS: dict[str, tuple[PrefillKind, float | None]] = {
    "paper": ("mm1", 1.0),
    "M/D/1": ("mg1", 0.0),
    "fitted": ("mg1", None),
}
Errors = dict[tuple[str, str], list[float]]


def load_prefill(path: str) -> PrefillProfile:
    p = Path(path)
    if p.is_dir():
        return prefill_profile(
            PrefillPart.model_validate_json((p / "parts" / "prefill.json").read_text())
        )
    return load_profile(path).prefill


def service_s(profile: PrefillProfile, isl: int) -> float:
    isls = [p.isl_tokens for p in profile.max_throughput]
    tps = [p.max_tps for p in profile.max_throughput]
    return isl / interpolate(isls, tps, isl).value


def fitted_scv(profile: PrefillProfile, points: list[TtftRatePoint]) -> float:
    fit = fit_engine_scv(profile.model_copy(update={"ttft_vs_rate": points}))
    return fit.scv if fit is not None else 0.0


def finite_run_band_s(
    rate: float, service: float, requests: int, runs: int = 200, seed: int = 0
) -> tuple[float, float]:
    """5th and 95th percentile of the mean sojourn of M/D/1 runs of ``requests`` Poisson
    arrivals starting empty (Lindley's recursion)."""
    rng = random.Random(seed)
    means = []
    for _ in range(runs):
        wait, total = 0.0, 0.0
        for _ in range(requests):
            total += wait + service
            wait = max(0.0, wait + service - rng.expovariate(rate))
        means.append(total / requests)
    means.sort()
    return means[int(0.05 * runs)], means[int(0.95 * runs) - 1]


def predict(
    capacity: PrefillProfile,
    scv_fit: float,
    points: list[TtftRatePoint],
    errors: Errors,
    detail: bool,
    band: list[int],
) -> None:
    """Add each point's errors per (model, stat); print a row per point with ``detail``."""
    for point in points:
        s = service_s(capacity, point.isl_tokens)
        util = point.rate_rps * s
        if util >= 0.98:
            if detail:
                print(f"{point.isl_tokens:>6}{util:>6.0%}  at or beyond capacity: skipped")
            continue
        for stat, measured in (("mean", point.ttft_mean_s), ("p90", point.ttft_p90_s)):
            line = f"{point.isl_tokens:>6}{util:>6.0%}{stat:>6}{measured * 1000:>8.1f}ms"
            for name, (kind, scv) in MODELS.items():
                scv = scv_fit if scv is None else scv
                predicted = capacity.overhead_s + sojourn_stat_s(
                    kind,
                    point.rate_rps,
                    s,
                    scv,
                    stat,  # type: ignore[arg-type]
                )
                err = predicted / measured - 1
                errors.setdefault((name, stat), []).append(err)
                line += f"{predicted * 1000:>9.1f}{err:>+7.0%}"
            if stat == "mean":
                lo, hi = finite_run_band_s(point.rate_rps, s, point.requests)
                lo, hi = lo + capacity.overhead_s, hi + capacity.overhead_s
                inside = lo <= measured <= hi
                band[0] += inside
                band[1] += 1
                line += f"   {lo * 1000:.1f}..{hi * 1000:.1f} ms {'in' if inside else 'OUT'}"
            if detail:
                print(line)


def summary(title: str, errors: Errors) -> None:
    print(f"\n{title}")
    print(f"{'model':<8}{'stat':>6}{'median |err|':>14}{'worst':>8}{'median err':>12}{'points':>8}")
    for (name, stat), errs in sorted(errors.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        abs_errs = [abs(e) for e in errs]
        print(
            f"{name:<8}{stat:>6}{statistics.median(abs_errs):>14.0%}{max(abs_errs):>8.0%}"
            f"{statistics.median(errs):>+12.0%}{len(errs):>8}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="profile.yaml or profile output directories")
    parser.add_argument("--detail", action="store_true", help="print every point")
    args = parser.parse_args()
    runs = {path: load_prefill(path) for path in args.runs}
    header = f"{'ISL':>6}{'util':>6}{'stat':>6}{'measured':>10}"
    header += "".join(f"{name:>16}" for name in MODELS) + "   M/D/1 90% band, one run"
    loo: Errors = {}
    band = [0, 0]
    for path, run in runs.items():
        fit = fit_engine_scv(run)
        print(
            f"{path}: overhead {run.overhead_s * 1000:.2f} ms, TPmax "
            + ", ".join(f"{p.max_tps:,.0f}@{p.isl_tokens}" for p in run.max_throughput)
            + (
                f", engine SCV {fit.scv:.2f} (median of {fit.points}, raw {fit.raw_scv:+.2f}; "
                f"per point {', '.join(f'{v:+.2f}' for v in fit.point_scv)})"
                if fit
                else ", no usable sweep"
            )
        )
        if args.detail:
            print(f"leave-one-out\n{header}")
        points = run.ttft_vs_rate
        for i, point in enumerate(points):
            scv = fitted_scv(run, points[:i] + points[i + 1 :])
            predict(run, scv, [point], loo, args.detail, band)
    summary("within a run (leave-one-out): the queue model alone", loo)
    print(
        f"{band[0]} of {band[1]} measured means inside the 90 % band of one M/D/1 run of the "
        "same length"
    )
    if len(runs) > 1:
        cross: Errors = {}
        for fit_path, fit_run in runs.items():
            for test_path, test_run in runs.items():
                if test_path == fit_path:
                    continue
                if args.detail:
                    print(f"\n{test_path} predicted from {fit_path}\n{header}")
                scv = fitted_scv(fit_run, fit_run.ttft_vs_rate)
                predict(fit_run, scv, test_run.ttft_vs_rate, cross, args.detail, [0, 0])
        summary("across runs (every run predicted from every other)", cross)


if __name__ == "__main__":
    main()
