"""Queueing models against a real engine: predicted and measured mean TTFT under Poisson load.

Reads a profile measured by ``pdplan profile prefill --loads ...`` (its ``ttft_vs_rate`` points
are open-loop Poisson runs at several utilizations) and, for each point, predicts the mean
TTFT with the paper's M/M/1 and with M/D/1 (the queueing model for fixed ISL), both from the
profile's TPmax and fixed overhead: ``TTFT = overhead + sojourn(rate, S = ISL / TPmax)``.

    python benchmarks/engine_ttft_accuracy.py docs/examples/vllm-cpu-tiny-llama.yaml
"""

from __future__ import annotations

import argparse
import statistics

from pdplan import load_profile
from pdplan.prefill import sojourn_stat_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile")
    args = parser.parse_args()
    profile = load_profile(args.profile)
    tpmax = {p.isl_tokens: p.max_tps for p in profile.prefill.max_throughput}
    overhead = profile.prefill.overhead_s
    print(f"overhead {overhead * 1000:.2f} ms (from the profile)")
    print(
        f"{'ISL':>6}{'util':>7}{'measured ms':>13}{'M/M/1 ms':>10}{'err':>8}{'M/D/1 ms':>10}"
        f"{'err':>8}"
    )
    errors: dict[str, list[float]] = {"mm1": [], "md1": []}
    for point in profile.prefill.ttft_vs_rate:
        service = point.isl_tokens / tpmax[point.isl_tokens]
        util = point.rate_rps * service
        measured = point.ttft_mean_s
        mm1 = overhead + sojourn_stat_s("mm1", point.rate_rps, service, 1.0, "mean")
        md1 = overhead + sojourn_stat_s("mg1", point.rate_rps, service, 0.0, "mean")
        errors["mm1"].append(mm1 / measured - 1)
        errors["md1"].append(md1 / measured - 1)
        print(
            f"{point.isl_tokens:>6}{util:>7.0%}{measured * 1000:>13.2f}{mm1 * 1000:>10.2f}"
            f"{mm1 / measured - 1:>+8.0%}{md1 * 1000:>10.2f}{md1 / measured - 1:>+8.0%}"
        )
    for name, errs in errors.items():
        abs_errs = [abs(e) for e in errs]
        print(f"{name}: median |err| {statistics.median(abs_errs):.0%}, worst {max(abs_errs):.0%}")


if __name__ == "__main__":
    main()
