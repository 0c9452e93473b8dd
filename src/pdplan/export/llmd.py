"""``pdplan size --export llm-d``: Helm values for llm-d's ``llm-d-modelservice`` chart that
deploy the planned allocation (prefill and decode pods of vLLM with NIXL KV transfer, behind
llm-d's routing sidecar). Pure: a plan in, the values (a dict, or YAML text) out.

The shape follows the chart's own P/D example (``examples/values-pd.yaml`` of
llm-d-incubation/llm-d-modelservice, chart v0.4.12) and validates against its
``values.schema.json`` (tests). ``replicas`` are the planned instance counts,
``parallelism.tensor`` the profile's GPUs per instance (the chart requests that many GPUs per
pod). The image is the chart example's (``ghcr.io/llm-d/llm-d-cuda``): override it, and add
the chart's other settings, with ``helm install -f`` on top of these values.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from pdplan.export.deployment import Deployment, check_model_name
from pdplan.schema.plan import Plan

__all__ = ["IMAGE", "llmd_values", "render_llmd_values"]

IMAGE = "ghcr.io/llm-d/llm-d-cuda:latest"
NIXL_PORT = 5600
#: Container ports as in the chart's P/D example: decode behind the routing proxy's target port.
PORTS = {"prefill": 8000, "decode": 8200}


def _label(model: str) -> str:
    """A Kubernetes label value for the model (<= 63 of [A-Za-z0-9_.-], alphanumeric ends)."""
    value = re.sub(r"[^A-Za-z0-9_.-]+", "-", model.lower()).strip("-_.")[:63]
    return value.strip("-_.") or "model"


def _role(name: str, replicas: int, gpus: int) -> dict[str, Any]:
    return {
        "create": True,
        "replicas": replicas,
        "parallelism": {"tensor": gpus},
        "containers": [
            {
                "name": "vllm",
                "image": IMAGE,
                "modelCommand": "vllmServe",
                "args": [
                    "--kv-transfer-config",
                    '{"kv_connector":"NixlConnector","kv_role":"kv_both"}',
                ],
                "env": [
                    {
                        "name": "VLLM_NIXL_SIDE_CHANNEL_HOST",
                        "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}},
                    },
                    {"name": "VLLM_NIXL_SIDE_CHANNEL_PORT", "value": str(NIXL_PORT)},
                ],
                "ports": [
                    {"containerPort": PORTS[name], "protocol": "TCP"},
                    {"containerPort": NIXL_PORT, "protocol": "TCP"},
                ],
                "mountModelVolume": True,
            }
        ],
    }


def llmd_values(plan: Plan | Deployment, model: str) -> dict[str, Any]:
    """The chart values for the planned allocation.

    >>> from pdplan import SLO, Workload, default_profile, size
    >>> plan = size(default_profile(), Workload.from_tpm(isl_tokens=6144, osl_tokens=512,
    ...             tpm=5e6), SLO(ttft_s=2.0, tpot_s=0.020))
    >>> v = llmd_values(plan, "deepseek-ai/DeepSeek-V3.1-Terminus")
    >>> v["prefill"]["replicas"], v["decode"]["replicas"], v["decode"]["parallelism"]
    (4, 4, {'tensor': 8})
    """
    check_model_name(model)
    d = plan if isinstance(plan, Deployment) else Deployment.of_plan(plan)
    return {
        "multinode": False,
        "modelArtifacts": {
            "name": model,
            "uri": f"hf://{model}",
            "labels": {"llm-d.ai/inference-serving": "true", "llm-d.ai/model": _label(model)},
        },
        "routing": {"servicePort": PORTS["prefill"]},
        "prefill": _role("prefill", d.prefill_instances, d.prefill_gpus),
        "decode": _role("decode", d.decode_instances, d.decode_gpus),
    }


def render_llmd_values(plan: Plan | Deployment, model: str, warnings: list[str]) -> str:
    """The values as YAML, headed by what was planned and the warnings (as comments)."""
    d = plan if isinstance(plan, Deployment) else Deployment.of_plan(plan)
    head = [
        f"# {d.summary}",
        "# Helm values for llm-d-modelservice (chart v0.4.12): helm install NAME "
        "llm-d-modelservice/llm-d-modelservice -f THIS_FILE",
        f"# image {IMAGE} is the chart example's: override it for your accelerators",
        *(f"# warning: {w}" for w in warnings),
    ]
    body = yaml.safe_dump(llmd_values(d, model), sort_keys=False, default_flow_style=False)
    return "\n".join(" ".join(line.splitlines()) for line in head) + "\n" + body
