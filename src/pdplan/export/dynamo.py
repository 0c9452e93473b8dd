"""``pdplan size --export dynamo``: a ``DynamoGraphDeployment`` (NVIDIA Dynamo's Kubernetes
resource, ``nvidia.com/v1beta1``) that deploys the planned allocation. Pure: a plan in, the
resource (a dict, or YAML text) out.

The shape follows Dynamo's own disaggregated examples (``examples/backends/*/deploy/disagg.yaml``
of ai-dynamo/dynamo) and validates against the operator's CRD (tests): a ``Frontend``, a
``prefill`` and a ``decode`` component whose ``replicas`` are the planned instance counts and
whose main container asks for the profile's GPUs per instance (``nvidia.com/gpu``, tensor
parallel over them), and a ``Planner`` component: Dynamo's SLA planner with pdplan's SLOs as
its targets (``ttft_ms``, ``itl_ms``: TPOT is Dynamo's ITL), the planned counts as its floors
and ``advisory: true``, so that it logs what it would scale to beside pdplan's plan without
changing it (set ``advisory`` to false to let it scale up from the plan).
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

import yaml

from pdplan.export.deployment import Deployment, check_model_name
from pdplan.schema.plan import Plan
from pdplan.schema.profile import ProfileMetadata
from pdplan.schema.workload import SLO

__all__ = ["DYNAMO_VERSION", "Backend", "backend_of", "dynamo_graph", "render_dynamo_graph"]

Backend = Literal["vllm", "sglang", "trtllm"]
#: The Dynamo release whose images, worker flags and planner settings the export uses.
DYNAMO_VERSION = "1.6.1"
_IMAGES: dict[Backend, str] = {
    "vllm": "nvcr.io/nvidia/ai-dynamo/vllm-runtime",
    "sglang": "nvcr.io/nvidia/ai-dynamo/sglang-runtime",
    "trtllm": "nvcr.io/nvidia/ai-dynamo/tensorrtllm-runtime",
}
PLANNER_IMAGE = "nvcr.io/nvidia/ai-dynamo/dynamo-planner"
SGLANG_BOOTSTRAP_PORT = 12345  # as in Dynamo's SGLang example
#: A pod asks for its instance's GPUs on one node; larger instances need Dynamo's ``multinode``.
GPUS_PER_NODE = 8


def backend_of(metadata: ProfileMetadata) -> tuple[Backend, list[str]]:
    """The Dynamo backend for the engine the profile was measured on, and what to warn about.

    >>> backend_of(ProfileMetadata(engine="sglang 0.5.8"))[0]
    'sglang'
    >>> backend_of(ProfileMetadata(engine="TensorRT-LLM 1.2"))[0]
    'trtllm'
    """
    engine = (metadata.engine or "").lower()
    if "sglang" in engine:
        return "sglang", []
    if "trt" in engine or "tensorrt" in engine:
        return "trtllm", []
    if "vllm" in engine:
        return "vllm", []
    named = f"measured on {metadata.engine}" if metadata.engine else "names no engine"
    return "vllm", [
        f"the profile {named}; the DynamoGraphDeployment runs vLLM workers: profile the "
        "engine you deploy before relying on the plan's numbers"
    ]


def _name(model: str, d: Deployment) -> str:
    """A DNS-1123 name for the resource (<= 63 characters), from the model and the plan."""
    base = re.sub(r"[^a-z0-9-]+", "-", model.split("/")[-1].lower()).strip("-") or "model"
    return f"{base[:50].strip('-')}-{d.name.lower()}"


def _worker_args(backend: Backend, model: str, role: str, gpus: int) -> list[str]:
    if backend == "vllm":
        return [
            "--model", model,
            "--tensor-parallel-size", str(gpus),
            "--disaggregation-mode", role,
            "--kv-transfer-config", '{"kv_connector":"NixlConnector","kv_role":"kv_both"}',
        ]  # fmt: skip
    if backend == "sglang":
        return [
            "--model-path", model,
            "--served-model-name", model,
            "--tp", str(gpus),
            "--trust-remote-code",
            "--skip-tokenizer-init",
            "--disaggregation-mode", role,
            "--disaggregation-transfer-backend", "nixl",
            "--disaggregation-bootstrap-port", str(SGLANG_BOOTSTRAP_PORT),
            "--host", "0.0.0.0",
        ]  # fmt: skip
    return [
        "--model", model,
        "--served-model-name", model,
        "--tensor-parallel-size", str(gpus),
        "--disaggregation-mode", role,
    ]  # fmt: skip


def _worker(backend: Backend, model: str, role: str, replicas: int, gpus: int) -> dict[str, Any]:
    return {
        "name": role,
        "type": role,
        "replicas": replicas,
        "podTemplate": {
            "spec": {
                "containers": [
                    {
                        "name": "main",
                        "image": f"{_IMAGES[backend]}:{DYNAMO_VERSION}",
                        "command": ["python3", "-m", f"dynamo.{backend}"],
                        "args": _worker_args(backend, model, role, gpus),
                        # a gated model needs the token; an open one starts without the secret
                        "envFrom": [{"secretRef": {"name": "hf-token-secret", "optional": True}}],
                        "resources": {"limits": {"nvidia.com/gpu": str(gpus)}},
                    }
                ]
            }
        },
    }


def planner_config(d: Deployment, backend: Backend, slo: SLO) -> dict[str, Any]:
    """The SLA planner's ``--config``: pdplan's SLOs as its targets, the plan as its floor.

    >>> d = Deployment(3, 4, 8, 8, "plan")
    >>> c = planner_config(d, "sglang", SLO(ttft_s=2.0, tpot_s=0.02))
    >>> c["ttft_ms"], c["itl_ms"], c["prefill_min_endpoint"], c["max_gpu_budget"]
    (2000.0, 20.0, 3, 56)
    """
    return {
        "environment": "kubernetes",
        "backend": backend,
        "mode": "disagg",
        "optimization_target": "sla",
        "ttft_ms": slo.ttft_s * 1000,
        "itl_ms": slo.tpot_s * 1000,
        "prefill_engine_num_gpu": d.prefill_gpus,
        "decode_engine_num_gpu": d.decode_gpus,
        "prefill_min_endpoint": d.prefill_instances,
        "decode_min_endpoint": d.decode_instances,
        "max_gpu_budget": d.prefill_instances * d.prefill_gpus + d.decode_instances * d.decode_gpus,
        "advisory": True,
    }


def dynamo_graph(
    plan: Plan | Deployment, model: str, backend: Backend, slo: SLO | None = None
) -> dict[str, Any]:
    """The DynamoGraphDeployment for the planned allocation (a Planner component when the SLOs
    are known: a plan's own, or ``slo``).

    >>> from pdplan import SLO, Workload, default_profile, size
    >>> plan = size(default_profile(), Workload.from_tpm(isl_tokens=6144, osl_tokens=512,
    ...             tpm=5e6), SLO(ttft_s=2.0, tpot_s=0.020))
    >>> g = dynamo_graph(plan, "deepseek-ai/DeepSeek-V3.1-Terminus", "sglang")
    >>> [(c["name"], c["replicas"]) for c in g["spec"]["components"]]
    [('Frontend', 1), ('Planner', 1), ('prefill', 4), ('decode', 4)]
    """
    check_model_name(model)
    d = plan if isinstance(plan, Deployment) else Deployment.of_plan(plan)
    slo = slo or (plan.slo if isinstance(plan, Plan) else None)
    image = f"{_IMAGES[backend]}:{DYNAMO_VERSION}"
    components: list[dict[str, Any]] = [
        {
            "name": "Frontend",
            "type": "frontend",
            "replicas": 1,
            "podTemplate": {"spec": {"containers": [{"name": "main", "image": image}]}},
        }
    ]
    if slo is not None:
        config = json.dumps(planner_config(d, backend, slo), separators=(",", ":"))
        container = {
            "name": "main",
            "image": f"{PLANNER_IMAGE}:{DYNAMO_VERSION}",
            "command": ["python3", "-m", "dynamo.planner"],
            "args": ["--config", config],
        }
        components.append(
            {
                "name": "Planner",
                "type": "planner",
                "replicas": 1,
                "podTemplate": {"spec": {"containers": [container]}},
            }
        )
    components.append(_worker(backend, model, "prefill", d.prefill_instances, d.prefill_gpus))
    components.append(_worker(backend, model, "decode", d.decode_instances, d.decode_gpus))
    return {
        "apiVersion": "nvidia.com/v1beta1",
        "kind": "DynamoGraphDeployment",
        "metadata": {"name": _name(model, d)},
        "spec": {"backendFramework": backend, "components": components},
    }


def export_warnings(d: Deployment, slo: SLO | None) -> list[str]:
    """What the resource cannot say by itself."""
    out = []
    big = max(d.prefill_gpus, d.decode_gpus)
    if big > GPUS_PER_NODE:
        out.append(
            f"an instance has {big} GPUs, more than one node of {GPUS_PER_NODE}: the pods ask "
            "for them on one node; add Dynamo's multinode settings to the components"
        )
    if slo is not None and (slo.ttft_stat != "mean" or slo.tpot_stat != "mean"):
        out.append(
            f"the plan meets {slo.ttft_stat} TTFT and {slo.tpot_stat} TPOT; Dynamo's planner "
            "takes ttft_ms/itl_ms as targets of its own latency model, not as percentiles"
        )
    return out


def render_dynamo_graph(
    plan: Plan | Deployment,
    model: str,
    backend: Backend,
    warnings: list[str],
    slo: SLO | None = None,
) -> str:
    """The resource as YAML, headed by what was planned and the warnings (as comments)."""
    d = plan if isinstance(plan, Deployment) else Deployment.of_plan(plan)
    slo = slo or (plan.slo if isinstance(plan, Plan) else None)
    head = [
        f"# {d.summary}",
        f"# NVIDIA Dynamo {DYNAMO_VERSION} DynamoGraphDeployment ({backend} workers): kubectl "
        "apply -f THIS_FILE (the Dynamo operator installed; a secret hf-token-secret for gated "
        "models)",
        "# Planner: Dynamo's SLA planner in advisory mode (logs its decisions, scales nothing); "
        "set advisory to false to let it scale from the plan's counts",
        *(f"# warning: {w}" for w in [*warnings, *export_warnings(d, slo)]),
    ]
    body = yaml.safe_dump(
        dynamo_graph(d, model, backend, slo), sort_keys=False, default_flow_style=False
    )
    return "\n".join(" ".join(line.splitlines()) for line in head) + "\n" + body
