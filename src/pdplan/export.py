"""A plan as launch commands for the engines users run (pure text, no I/O).

``vllm``: one ``vllm serve`` per instance with the NixlConnector (``kv_both``) and the plan's
GPUs per instance as tensor parallelism, behind ``vllm-router --vllm-pd-disaggregation``.
``sglang``: ``sglang.launch_server --disaggregation-mode prefill|decode`` behind
``sglang_router.launch_router --pd-disaggregation``. Hosts are shell variables
(``PREFILL_HOST_0`` ...) so one script serves any placement, and instance i listens on
base port + i; adjust flags (KV backend, parallelism) to your cluster.
"""

from __future__ import annotations

import json
from typing import Literal

from pdplan.models.plan import Plan

__all__ = ["Engine", "launch_script"]

Engine = Literal["vllm", "sglang"]
_PREFILL_PORT, _DECODE_PORT, _ROUTER_PORT = 8100, 8200, 8000


def _hosts(role: str, count: int) -> list[str]:
    return [f"${{{role.upper()}_HOST_{i}:-127.0.0.1}}" for i in range(count)]


def launch_script(plan: Plan, engine: Engine, model: str) -> str:
    """A bash script that starts the planned allocation and its router.

    >>> from pdplan import SLO, Workload, default_profile, size
    >>> plan = size(default_profile(), Workload.from_tpm(isl_tokens=6144, osl_tokens=512,
    ...             tpm=5e6), SLO(ttft_s=2.0, tpot_s=0.020))
    >>> script = launch_script(plan, "vllm", "deepseek-ai/DeepSeek-V3.1-Terminus")
    >>> script.count("vllm serve"), script.count("--prefill "), script.count("--decode ")
    (8, 4, 4)
    """
    a = plan.allocation
    tp_p = plan.prefill.gpus_per_instance or 1
    tp_d = plan.decode.gpus_per_instance or 1
    prefill_hosts, decode_hosts = (
        _hosts("prefill", a.prefill_instances),
        _hosts("decode", a.decode_instances),
    )
    lines = [
        "#!/usr/bin/env bash",
        f"# pdplan plan {a.name}: {a.gpus or '?'} GPUs, sustains {a.max_total_tps:,.0f} tok/s "
        f"(model {plan.model}); ISL {plan.workload.isl_tokens}, OSL {plan.workload.osl_tokens}",
        "# Run each server line on its own host (set PREFILL_HOST_i / DECODE_HOST_i).",
        "set -euo pipefail",
    ]
    kv = json.dumps({"kv_connector": "NixlConnector", "kv_role": "kv_both"})
    for role, hosts, tp, base_port in (
        ("prefill", prefill_hosts, tp_p, _PREFILL_PORT),
        ("decode", decode_hosts, tp_d, _DECODE_PORT),
    ):
        for i, host in enumerate(hosts):
            port = base_port + i
            if engine == "vllm":
                server = (
                    f"vllm serve {model} --host 0.0.0.0 --port {port} "
                    f"--tensor-parallel-size {tp} --kv-transfer-config '{kv}'"
                )
            else:
                server = (
                    f"python -m sglang.launch_server --model-path {model} --host 0.0.0.0 "
                    f"--port {port} --tp-size {tp} --disaggregation-mode {role}"
                )
            lines.append(f"# {role} {i} on {host}\n{server} &")
    if engine == "vllm":
        router = [
            "vllm-router --host 0.0.0.0",
            f"--port {_ROUTER_PORT}",
            "--vllm-pd-disaggregation",
        ]
    else:
        router = [
            "python -m sglang_router.launch_router --host 0.0.0.0",
            f"--port {_ROUTER_PORT}",
            "--pd-disaggregation",
        ]
    router += [f"--prefill http://{h}:{_PREFILL_PORT + i}" for i, h in enumerate(prefill_hosts)]
    router += [f"--decode http://{h}:{_DECODE_PORT + i}" for i, h in enumerate(decode_hosts)]
    lines.append("# router\n" + " \\\n  ".join(router))
    return "\n".join(lines) + "\n"
