"""How fast can pdplan's load generator keep its schedule: one worker, N worker processes,
Ray actors on N nodes?

A minimal streaming server (a separate process: an OpenAI-style ``/v1/completions`` that
streams ``--osl`` one-token chunks, ``--token-ms`` apart, and a ``usage`` block) is driven
open loop (Poisson) at rising rates, each for ``--duration``, through pdplan's own load test
(``Session`` + ``run_loadtest``, token-id prompts so the server does no tokenizing). A rate is
sustained when the generator's send lag p99 (every worker's) stays under ``--lag-ms`` and the
rate actually sent is within 3 % of the schedule. Printed per configuration and rate: the sent
rate, the send lag p50/p99/max, the generator's CPU per request and per streamed chunk (the
controller's CPU plus every worker's) and the server's CPU, so that a limit of the machine
(2 cores shared by server and client here) shows as such.

The whole ramp runs ``--repeats`` times per configuration (the machine is noisy): the
largest sustained rate is given as the median and range over the repeats.

    python benchmarks/loadgen_scale.py [--configs inproc,local2,ray2] [--duration 5] \
        [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from pdplan.bench.loadtest import MAX_RATE_RPS, LoadtestSettings, run_loadtest
from pdplan.bench.ray_pool import RayPool
from pdplan.bench.session import Session
from pdplan.bench.workers import LocalPool, Pool
from pdplan.schema.workload import SLO, Workload

TICKS = os.sysconf("SC_CLK_TCK")


def _server_main(port: int, token_s: float, ready: Any) -> None:
    """The minimal streaming server: HTTP/1.1 keep-alive, one SSE chunk per token."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                headers = {}
                while (h := await reader.readline()) not in (b"\r\n", b""):
                    k, _, v = h.decode().partition(":")
                    headers[k.strip().lower()] = v.strip()
                body = await reader.readexactly(int(headers.get("content-length", 0)))
                path = line.split()[1].decode()
                if path == "/v1/models":
                    data = json.dumps({"data": [{"id": "m"}]}).encode()
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(data))
                    writer.write(data)
                    continue
                req = json.loads(body)
                n = int(req["max_tokens"])
                isl = len(req["prompt"]) if isinstance(req["prompt"], list) else 1
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                    b"Transfer-Encoding: chunked\r\n\r\n"
                )

                def chunk(text: str) -> None:
                    raw = f"data: {text}\n\n".encode()
                    writer.write(b"%x\r\n%s\r\n" % (len(raw), raw))

                for i in range(n):
                    if i:
                        await asyncio.sleep(token_s)
                    chunk(json.dumps({"choices": [{"index": 0, "text": "x"}]}))
                    await writer.drain()
                usage = {"prompt_tokens": isl, "completion_tokens": n}
                chunk(json.dumps({"choices": [], "usage": usage}))
                chunk("[DONE]")
                writer.write(b"0\r\n\r\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=4096)
        ready.set()
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


async def _step(url: str, pool: Pool | None, rate: float, args: argparse.Namespace) -> Any:
    workload = Workload.from_rps(isl_tokens=args.isl, osl_tokens=args.osl, rate_rps=rate)
    settings = LoadtestSettings(
        workload=workload,
        duration_s=args.duration,
        slo=SLO(ttft_s=60, tpot_s=60),
        workers=pool.workers if pool else 1,
        max_send_lag_s=args.lag_ms / 1000,
    )
    with tempfile.TemporaryDirectory() as out:
        async with Session(url, Path(out), model="m", prompt_mode="ids", pool=pool) as session:
            (step,) = await run_loadtest(session, settings)
    return step


def run_config(
    name: str, url: str, server_pid: int, args: argparse.Namespace
) -> tuple[list[str], list[float]]:
    pool: Pool | None = None
    if name.startswith("local"):
        pool = LocalPool(int(name[5:]))
    elif name.startswith("ray"):
        import ray
        from ray.cluster_utils import Cluster

        nodes = int(name[3:])
        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
        for _ in range(nodes - 1):
            cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        ray.init(address=cluster.address, log_to_driver=False)
        pool = RayPool(cluster.address, nodes)
    lines: list[str] = []
    bests: list[float] = []
    try:
        for _ in range(args.repeats):
            lines, best = ramp(name, url, server_pid, pool, args, lines)
            bests.append(best or 0.0)
    finally:
        if name.startswith("ray"):
            import ray

            ray.shutdown()
            cluster.shutdown()
    return lines, bests


def ramp(
    name: str,
    url: str,
    server_pid: int,
    pool: Pool | None,
    args: argparse.Namespace,
    lines: list[str],
) -> tuple[list[str], float | None]:
    """Rising rates until the generator falls behind; the largest rate it kept."""
    best = None
    rate = args.start
    top = min(args.stop, MAX_RATE_RPS * (pool.workers if pool else 1))  # pdplan's own limit
    while rate <= top:
        c0, s0 = time.process_time(), _cpu_s(server_pid)
        step = asyncio.run(_step(url, pool, rate, args))
        controller = time.process_time() - c0
        server = _cpu_s(server_pid) - s0
        workers = sum(w.cpu_s or 0.0 for w in step.workers or [])
        n = max(1, step.requests)
        client = controller + workers
        lags = [step.send_lag_s] + [w.send_lag_s for w in step.workers or []]
        p99 = max(x.p99 for x in lags if x is not None)
        lag = step.send_lag_s
        kept = p99 < args.lag_ms / 1000 and step.offered_rps >= 0.97 * step.scheduled_rps
        best = step.offered_rps if kept else best
        lines.append(
            f"{name:8} {rate:7.0f} {step.offered_rps:7.0f} {lag.p50 * 1e3:6.2f} "
            f"{p99 * 1e3:7.2f} {lag.max * 1e3:7.1f} {client / n * 1e3:7.2f} "
            f"{client / (n * args.osl) * 1e6:7.1f} {server / n * 1e3:7.2f} "
            f"{'kept' if kept else 'late':>5}"
        )
        print(lines[-1], flush=True)
        if not kept:
            break
        rate *= args.factor
    lines.append(
        f"{name}: largest rate with send lag p99 < {args.lag_ms:g} ms: "
        + (f"{best:,.0f} req/s" if best else "none")
    )
    print(lines[-1], flush=True)
    return lines, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", default="inproc,local2,ray2")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per rate")
    parser.add_argument("--start", type=float, default=50.0, help="first rate, req/s")
    parser.add_argument("--stop", type=float, default=5000.0)
    parser.add_argument("--factor", type=float, default=1.25, help="rate step")
    parser.add_argument("--lag-ms", type=float, default=5.0)
    parser.add_argument("--isl", type=int, default=32)
    parser.add_argument("--osl", type=int, default=16)
    parser.add_argument("--token-ms", type=float, default=2.0)
    parser.add_argument("--port", type=int, default=8931)
    parser.add_argument("--repeats", type=int, default=3, help="ramps per configuration")
    args = parser.parse_args()
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    server = ctx.Process(
        target=_server_main, args=(args.port, args.token_ms / 1000, ready), daemon=True
    )
    server.start()
    ready.wait(30)
    assert server.pid is not None
    url = f"http://127.0.0.1:{args.port}"
    print(
        f"{os.cpu_count()} CPUs; server: {args.osl} chunks per request, {args.token_ms:g} ms apart"
    )
    print("config      rate    sent  lag50ms lag99ms  lagmax  cpu/req  us/chunk  srv/req  sched")
    summary = []
    try:
        for name in args.configs.split(","):
            _, bests = run_config(name.strip(), url, server.pid, args)
            ordered = sorted(bests)
            summary.append(
                f"{name.strip():8} largest rate with send lag p99 < {args.lag_ms:g} ms: median "
                f"{ordered[len(ordered) // 2]:,.0f} req/s (range {ordered[0]:,.0f}.."
                f"{ordered[-1]:,.0f}) over {len(bests)} ramps"
            )
    finally:
        server.terminate()
    print("\n".join(summary))


if __name__ == "__main__":
    main()
