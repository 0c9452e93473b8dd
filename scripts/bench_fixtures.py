"""Run real benchmark clients against a live engine and keep what they write: the fixtures
that ``pdplan import`` and ``pdplan compare`` are tested on (``tests/data/imports/``), and the
files the CI step imports. Each tool runs the same three kinds of runs at one request shape:

- a TPmax sweep: one output token, closed loop at concurrency 1, 2, 4, 8;
- a TTFT-against-rate sweep: one output token, Poisson arrivals at three rates;
- a decode sweep: OSL tokens, closed loop at concurrency 1, 2, 4, 8 (16 for vLLM);
- load-test steps: OSL tokens, Poisson arrivals at two rates (for ``pdplan compare``).

Every command is written to ``OUT/COMMANDS.md`` as it runs. Tools live in their own virtual
environments (``--tool-python`` / ``--tool-bin``), none of them needs the internet: prompts
are synthetic, the tokenizer a local directory.

    python scripts/bench_fixtures.py vllm --url http://127.0.0.1:8100 \\
        --python .venv-vllm/bin/python --tokenizer .tiny-llama --out tests/data/imports/vllm-bench
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class Runner:
    def __init__(self, out: Path, dry: bool) -> None:
        self.out, self.dry = out, dry
        out.mkdir(parents=True, exist_ok=True)
        self.log = out / "COMMANDS.md"
        if not self.log.exists():
            self.log.write_text("# Commands that wrote these files\n\n", encoding="utf-8")

    def run(self, cmd: list[str], note: str, cwd: Path | None = None) -> None:
        line = shlex.join(str(c) for c in cmd)
        with self.log.open("a", encoding="utf-8") as handle:
            handle.write(f"{note}:\n\n```\n{line}\n```\n\n")
        print(f"$ {line}", flush=True)
        if self.dry:
            return
        started = time.monotonic()
        subprocess.run(cmd, check=True, cwd=cwd)
        print(f"  ({time.monotonic() - started:.0f} s)", flush=True)


def _rates(args: argparse.Namespace) -> list[float]:
    return [float(r) for r in args.rates.split(",")]


def vllm_like(args: argparse.Namespace, runner: Runner, sglang: bool) -> None:
    """vllm bench serve (through benchmarks/vllm_bench_serve.py) or SGLang bench_serving."""
    if sglang:
        base = [args.python, "-m", "sglang.benchmark.serving", "--backend", "vllm"]
        length_opts = ["--random-range-ratio", "1.0"]  # SGLang: [ratio * len, len]
    else:
        base = [args.python, str(ROOT / "benchmarks" / "vllm_bench_serve.py"), "--backend", "vllm"]
        length_opts = ["--random-range-ratio", "0"]  # vLLM: len * [1 - r, 1 + r]
    common = [
        "--base-url", args.url, "--model", args.model, "--tokenizer", args.tokenizer,
        # SGLang's "random" samples ShareGPT (a download); "random-ids" needs nothing
        "--dataset-name", "random-ids" if sglang else "random",
        "--random-input-len", str(args.isl), "--seed", "7",
        *length_opts,
    ]  # fmt: skip
    if not sglang:
        common += ["--ignore-eos", "--percentile-metrics", "ttft,tpot,itl",
                   "--metric-percentiles", "50,90,99"]  # fmt: skip

    def save(name: str) -> list[str]:
        if sglang:
            return ["--output-file", str(runner.out / "results.jsonl"), "--output-details"]
        return ["--save-result", "--result-dir", str(runner.out), "--result-filename", name]

    for c in (1, 2, 4, 8):
        runner.run(
            [*base, *common, "--random-output-len", "1", "--request-rate", "inf",
             "--max-concurrency", str(c), "--num-prompts", str(max(16, 8 * c)),
             *save(f"tpmax-c{c}.json")],
            f"TPmax sweep, concurrency {c}",
        )  # fmt: skip
    for rate in _rates(args):
        detailed = [] if sglang else ["--save-detailed"]
        runner.run(
            [*base, *common, "--random-output-len", "1", "--request-rate", f"{rate:g}",
             "--num-prompts", str(args.prompts), *detailed, *save(f"ttft-r{rate:g}.json")],
            f"TTFT against rate, {rate:g} req/s (Poisson)",
        )  # fmt: skip
    for c in (1, 2, 4, 8, 16):
        runner.run(
            [*base, *common, "--random-output-len", str(args.osl), "--request-rate", "inf",
             "--max-concurrency", str(c), "--num-prompts", str(max(16, 4 * c)),
             *save(f"decode-c{c}.json")],
            f"decode sweep, concurrency {c}",
        )  # fmt: skip
    for rate in [float(r) for r in args.step_rates.split(",")]:
        runner.run(
            [*base, *common, "--random-output-len", str(args.osl), "--request-rate", f"{rate:g}",
             "--num-prompts", str(args.prompts), *save(f"step-r{rate:g}.json")],
            f"load-test step, {rate:g} req/s (Poisson)",
        )  # fmt: skip


def guidellm(args: argparse.Namespace, runner: Runner) -> None:
    """guidellm run: one JSON report per sweep (each holds one benchmark per rate)."""
    exe = str(Path(args.python).with_name("guidellm"))
    common = [
        "--backend", f"kind=openai_http,target={args.url}",
        "--tokenizer", f"kind=hf_auto,model={args.tokenizer}",
        "--disable-console-interactive",
    ]  # fmt: skip

    def data(osl: int) -> list[str]:
        return [
            "--data",
            # no *_stdev: guidellm refuses 0 and, without one, sends the fixed lengths
            f"kind=synthetic_text,prompt_tokens={args.isl},output_tokens={osl}",
        ]

    def listed(kind: str, key: str, values: str) -> str:  # key=a,b,c would split at the commas
        return json.dumps({"kind": kind, key: [float(v) for v in values.split(",")]})

    sweeps = (
        ("tpmax", 1, listed("concurrent", "streams", "1,2,4,8"), "count=32"),
        ("ttft", 1, listed("poisson", "rate", args.rates), f"count={args.prompts}"),
        ("decode", args.osl, listed("concurrent", "streams", "1,2,4,8"), "count=32"),
        ("steps", args.osl, listed("poisson", "rate", args.step_rates), f"count={args.prompts}"),
    )
    for name, osl, profile, count in sweeps:
        runner.run(
            [exe, "run", *common, *data(osl), "--profile", profile,
             "--constraint", f"kind=max_requests,{count}",
             "--output", f"kind=json,path={runner.out / f'{name}.json'}"],
            f"guidellm {name} sweep",
        )  # fmt: skip


def aiperf(args: argparse.Namespace, runner: Runner) -> None:
    """aiperf profile: one artifact directory per run (profile_export_aiperf.json inside)."""
    exe = str(Path(args.python).with_name("aiperf"))
    common = [
        "--model", args.model, "--url", args.url, "--endpoint-type", "completions",
        "--streaming", "--tokenizer", args.tokenizer,
        "--synthetic-input-tokens-mean", str(args.isl), "--synthetic-input-tokens-stddev", "0",
        "--output-tokens-stddev", "0", "--random-seed", "7",
    ]  # fmt: skip
    runs = [
        (f"tpmax-c{c}", 1, ["--concurrency", str(c), "--request-count", "32"]) for c in (1, 2, 4, 8)
    ]
    runs += [(f"ttft-r{r:g}", 1, ["--request-rate", f"{r:g}", "--request-count",
              str(args.prompts)]) for r in _rates(args)]  # fmt: skip
    runs += [(f"decode-c{c}", args.osl, ["--concurrency", str(c), "--request-count", "32"])
             for c in (1, 2, 4, 8)]  # fmt: skip
    steps = [float(x) for x in args.step_rates.split(",")]
    runs += [(f"step-r{r:g}", args.osl, ["--request-rate", f"{r:g}", "--request-count",
              str(args.prompts)]) for r in steps]  # fmt: skip
    for name, osl, load in runs:
        runner.run(
            [exe, "profile", *common, "--output-tokens-mean", str(osl), *load,
             "--artifact-dir", str(runner.out / name)],
            f"aiperf {name}",
        )  # fmt: skip


def inference_perf(args: argparse.Namespace, runner: Runner) -> None:
    """inference-perf: one config per sweep; the reports land in a directory per sweep."""
    exe = str(Path(args.python).with_name("inference-perf"))
    isl, osl = args.isl, args.osl

    def config(name: str, out_osl: int, kind: str, stages: list[dict[str, float]]) -> Path:
        cfg = {
            "api": {"type": "completion", "streaming": True},
            "server": {"type": "vllm", "model_name": args.model, "base_url": args.url,
                       "ignore_eos": True},
            "tokenizer": {"pretrained_model_name_or_path": args.tokenizer},
            "data": {"type": "random",
                     "input_distribution": {"min": isl, "max": isl, "mean": isl, "std_dev": 0,
                                            "total_count": 1000},
                     "output_distribution": {"min": out_osl, "max": out_osl, "mean": out_osl,
                                             "std_dev": 0, "total_count": 1000}},
            "load": {"type": kind, "stages": stages},
            "report": {"request_lifecycle": {"summary": True, "per_stage": True,
                                             "per_request": False}},
            "storage": {"local_storage": {"path": str(runner.out / name)}},
        }  # fmt: skip
        path = runner.out / f"{name}.yaml"
        path.write_text(json.dumps(cfg, indent=2) + "\n", encoding="utf-8")
        return path

    closed = [{"num_requests": max(16, 8 * c), "concurrency_level": c} for c in (1, 2, 4, 8)]
    ttft = [{"rate": r, "duration": max(5, round(args.prompts / r))} for r in _rates(args)]
    steps = [{"rate": float(r), "duration": max(5, round(args.prompts / float(r)))}
             for r in args.step_rates.split(",")]  # fmt: skip
    for name, out_osl, kind, stages in (
        ("tpmax", 1, "concurrent", closed),
        ("ttft", 1, "poisson", ttft),
        ("decode", osl, "concurrent", closed),
        ("steps", osl, "poisson", steps),
    ):
        runner.run([exe, "--config_file", str(config(name, out_osl, kind, stages))],
                   f"inference-perf {name} stages")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tool", choices=("vllm", "sglang", "guidellm", "aiperf", "inference-perf"))
    parser.add_argument("--url", required=True)
    parser.add_argument("--python", required=True, help="the tool's environment's python")
    parser.add_argument("--tokenizer", required=True)
    parser.add_argument("--model", default="tiny-llama")
    parser.add_argument("--isl", type=int, default=256)
    parser.add_argument("--osl", type=int, default=32)
    parser.add_argument("--rates", default="20,35,50", help="TTFT sweep rates, req/s")
    parser.add_argument("--step-rates", default="4,8", help="load-test step rates, req/s")
    parser.add_argument("--prompts", type=int, default=200)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()
    runner = Runner(args.out, args.dry_run)
    if args.tool in ("vllm", "sglang"):
        vllm_like(args, runner, sglang=args.tool == "sglang")
    elif args.tool == "guidellm":
        guidellm(args, runner)
    elif args.tool == "aiperf":
        aiperf(args, runner)
    else:
        inference_perf(args, runner)


if __name__ == "__main__":
    sys.exit(main())
