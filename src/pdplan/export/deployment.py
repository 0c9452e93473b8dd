"""What an export starts, whatever the target: a :class:`Deployment` (instance counts, GPUs
per instance, what was planned), the model name every target quotes (checked whole, so that
no shell reads more than a name), the ports, and the warnings for a profile measured on
another engine. Pure."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

from pdplan.errors import ConfigError
from pdplan.plan.trace import TracePlan
from pdplan.schema.plan import Plan
from pdplan.schema.profile import ProfileMetadata

__all__ = [
    "BOOTSTRAP_PORT",
    "PREFILL_PORT",
    "ROUTER_PORT",
    "SIDE_PORT",
    "Deployment",
    "Engine",
    "check_model_name",
    "export_warnings",
    "ports",
]

Engine = Literal["vllm", "sglang"]
#: Ports: the router, then the prefill instances from PREFILL_PORT, the decode instances from
#: the next multiple of 100 above them; KV side channels (NIXL) and bootstrap ports (SGLang)
#: in their own ranges, so that nothing collides at any plan size (<= 10,000 per phase).
ROUTER_PORT, PREFILL_PORT, SIDE_PORT, BOOTSTRAP_PORT = 8000, 8100, 30000, 52000
_MODEL_NAME = re.compile(r"[A-Za-z0-9._/~:@+=][A-Za-z0-9._/~:@+=-]*")


def check_model_name(name: str, field: str = "--served-model") -> str:
    """A Hugging Face model id or a path, as engines accept them; refuses anything a shell
    would read as more than a name.

    >>> check_model_name("deepseek-ai/DeepSeek-V3.1-Terminus")
    'deepseek-ai/DeepSeek-V3.1-Terminus'
    """
    if not _MODEL_NAME.fullmatch(name) or len(name) > 1024:
        raise ConfigError(
            f"{field}: {name!r} is not a model id or path an engine accepts: use letters, "
            "digits and . _ - / ~ : @ + = (no spaces or shell characters, not starting with -)"
        )
    return name


def ports(prefill_instances: int, decode_instances: int) -> tuple[list[int], list[int]]:
    """HTTP ports of the prefill and the decode instances: never the same, never the router's.

    >>> p, d = ports(385, 4)
    >>> p[0], p[-1], d[0], d[-1]
    (8100, 8484, 8500, 8503)
    """
    decode_base = PREFILL_PORT + 100 * max(1, math.ceil(prefill_instances / 100))
    return (
        [PREFILL_PORT + i for i in range(prefill_instances)],
        [decode_base + i for i in range(decode_instances)],
    )


def export_warnings(engine: Engine, metadata: ProfileMetadata) -> list[str]:
    """What the user should know before running the script (a profile of another engine)."""
    measured = (metadata.engine or "").lower()
    if measured and engine not in measured:
        return [
            f"the profile was measured on {metadata.engine}, the script launches {engine}: "
            f"the plan's numbers describe {metadata.engine}; profile {engine} before relying on "
            "them"
        ]
    return []


@dataclass(frozen=True)
class Deployment:
    """What a launch script starts: instance counts, GPUs per instance, and one line saying
    what was planned (the script's first comment)."""

    prefill_instances: int
    decode_instances: int
    prefill_gpus: int
    decode_gpus: int
    summary: str

    @property
    def name(self) -> str:
        return f"{self.prefill_instances}P{self.decode_instances}D"

    @classmethod
    def of_plan(cls, plan: Plan) -> Deployment:
        """The allocation a mean-rate plan recommends."""
        a = plan.allocation
        return cls(
            a.prefill_instances,
            a.decode_instances,
            plan.prefill.gpus_per_instance or 1,
            plan.decode.gpus_per_instance or 1,
            f"pdplan plan {a.name} (model {plan.model}): {a.gpus or '?'} GPUs, sustains "
            f"{a.max_total_tps:,.0f} tok/s; ISL {plan.workload.isl_tokens:.0f}, OSL "
            f"{plan.workload.osl_tokens:.0f} tokens (means)",
        )

    @classmethod
    def of_trace_plan(cls, plan: TracePlan) -> Deployment:
        """The allocation whose replay of the trace meets the SLOs."""
        a, per = plan.allocation, plan.mean_rate_plan
        return cls(
            a.prefill_instances,
            a.decode_instances,
            per.prefill.gpus_per_instance or 1,
            per.decode.gpus_per_instance or 1,
            f"pdplan plan {a.allocation} for the trace {plan.trace.source} (model {plan.model}): "
            f"{a.gpus or '?'} GPUs, the smallest allocation whose replay meets the SLOs",
        )
