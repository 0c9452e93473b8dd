"""What the load generator itself costs: CPU per request and timestamp lag.

Drives a server (a fake engine started in its own process by default, so that only the
client's CPU is counted) with closed-loop streaming requests, and reports:

- client CPU time per request and per streamed chunk (``time.process_time``);
- the share of one core the client used;
- event-loop lag during the load: how late a 5 ms ``asyncio.sleep`` wakes up (p50, p99, max),
  an upper bound on how late a chunk's timestamp can be.

    python benchmarks/client_overhead.py [--url URL] [--requests 2000] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pdplan.bench.session import Session
from pdplan.quantiles import quantile


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def lag_probe(stop: asyncio.Event, lags_ms: list[float]) -> None:
    while not stop.is_set():
        start = time.perf_counter()
        await asyncio.sleep(0.005)
        lags_ms.append((time.perf_counter() - start - 0.005) * 1000)


async def drive(url: str, requests: int, concurrency: int, isl: int, osl: int) -> None:
    lags: list[float] = []
    stop = asyncio.Event()
    async with Session(url, Path(tempfile.mkdtemp())) as session:
        await session.sequential("warmup", isl, osl, 3, gap_s=0.0)
        probe = asyncio.create_task(lag_probe(stop, lags))
        cpu0, wall0 = time.process_time(), time.perf_counter()
        records = await session.closed_loop("load", isl, osl, concurrency, requests)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        stop.set()
        await probe
    chunks = sum(r.chunks for r in records)
    ok = sum(r.ok for r in records)
    print(f"requests {len(records)} ({ok} ok), streamed chunks {chunks}, wall {wall:.2f} s")
    print(f"client CPU per request  {cpu / len(records) * 1000:8.3f} ms")
    print(f"client CPU per chunk    {cpu / max(chunks, 1) * 1e6:8.1f} us")
    print(f"client share of 1 core  {cpu / wall:8.1%}")
    print(
        f"event-loop lag (5 ms sleep) p50 {quantile(lags, 0.5):.3f} ms, "
        f"p99 {quantile(lags, 0.99):.3f} ms, max {max(lags):.3f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="engine base URL (default: a fake engine subprocess)")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--isl", type=int, default=512)
    parser.add_argument("--osl", type=int, default=64)
    args = parser.parse_args()
    server = None
    url = args.url
    if url is None:
        port = free_port()
        root = Path(__file__).resolve().parents[1]
        server = subprocess.Popen(
            [sys.executable, "-m", "tests.fakes.openai_server", str(port)], cwd=root
        )
        url = f"http://127.0.0.1:{port}"
        time.sleep(1.0)
    try:
        asyncio.run(drive(url, args.requests, args.concurrency, args.isl, args.osl))
    finally:
        if server is not None:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
