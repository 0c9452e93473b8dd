"""``pdplan schedule --export``: the schedule, or the cheapest safe autoscaling setting found on
the replay, in the form a cluster runs. Pure: a plan in, YAML or JSON text out.

- ``keda``: a KEDA ``ScaledObject`` (``keda.sh/v1alpha1``) per phase with one ``cron`` trigger
  per step above the phase's minimum, each starting one scale-up delay before its step (KEDA
  takes the highest trigger, so overlaps are harmless); validated against KEDA's CRD (tests).
  Cron repeats daily, so the schedule must span at most a day; time 0 of the trace is midnight
  of ``timezone``.
- ``hpa``: a ``HorizontalPodAutoscaler`` (``autoscaling/v2``) per phase with the threshold
  policy's cheapest safe target as a per-pod metric target (requests running + waiting per pod,
  exported by the engine and served to the HPA by a metrics adapter), the 300 s scale-down
  stabilisation and the scale-up rate the replay assumed; validated against Kubernetes'
  schema (tests).
- ``dynamo-planner``: the settings of Dynamo's planner (its ``--config``) for the throughput
  policy's cheapest safe predictor that Dynamo has (``constant`` or ``kalman``): adjustment
  interval, predictor, SLO targets, GPUs per engine, bounds; validated against the planner's
  own model (tests).
"""

from __future__ import annotations

import json
import math
from typing import Any

import yaml

from pdplan.errors import ConfigError
from pdplan.export.dynamo import backend_of
from pdplan.plan.autoscale import PolicyRow
from pdplan.plan.schedule import SchedulePlan
from pdplan.schema.profile import ProfileMetadata

__all__ = ["export_schedule", "hpa_objects", "keda_objects", "planner_settings"]

DAY_S = 86_400.0
#: The per-pod metric the HPA export scales on (a metrics adapter serves it).
POD_METRIC = "vllm_num_requests_in_flight"
_PHASES = (("prefill", "prefill_instances"), ("decode", "decode_instances"))


def _cron(seconds: float) -> str:
    minute = int(seconds // 60) % (24 * 60)
    return f"{minute % 60} {minute // 60} * * *"


def keda_objects(
    plan: SchedulePlan, name: str = "pdplan", timezone: str = "UTC"
) -> list[dict[str, Any]]:
    """A ScaledObject per phase: the minimum count always, and a cron trigger per step above it.

    :raises ConfigError: when the schedule spans more than a day (cron repeats daily)
    """
    steps = plan.schedule.steps
    end_s = plan.replay.windows[-1].end_s
    if end_s > DAY_S + 1e-6:
        raise ConfigError(
            f"--export keda: the schedule spans {end_s / 3600:.4g} h; cron triggers repeat "
            "daily, so export a schedule of one day at most (--trace-slice 0:86400)"
        )
    delay = plan.scale_up_delay_s
    out = []
    for phase, attr in _PHASES:
        counts = [getattr(s, attr) for s in steps]
        base = min(counts)
        triggers = []
        for k, step in enumerate(steps):
            if counts[k] == base:
                continue
            start = max(step.start_s - delay, 0.0)
            end = steps[k + 1].start_s if k + 1 < len(steps) else DAY_S
            triggers.append(
                {
                    "type": "cron",
                    "name": f"{phase}-{k}",
                    "metadata": {
                        "timezone": timezone,
                        "start": _cron(start),  # the minute it falls in: never late
                        "end": _cron(math.ceil(end / 60) * 60),
                        "desiredReplicas": str(counts[k]),
                    },
                }
            )
        if not triggers:  # a constant phase: one trigger holding its count all day
            triggers.append(
                {
                    "type": "cron",
                    "name": f"{phase}-all-day",
                    "metadata": {
                        "timezone": timezone,
                        "start": "0 0 * * *",
                        "end": "59 23 * * *",
                        "desiredReplicas": str(base),
                    },
                }
            )
        out.append(
            {
                "apiVersion": "keda.sh/v1alpha1",
                "kind": "ScaledObject",
                "metadata": {"name": f"{name}-{phase}"},
                "spec": {
                    "scaleTargetRef": {"name": f"{name}-{phase}"},
                    "pollingInterval": 30,
                    "minReplicaCount": base,
                    "maxReplicaCount": max(counts),
                    "triggers": triggers,
                },
            }
        )
    return out


def _row(plan: SchedulePlan, prefix: str, allowed: tuple[str, ...] | None = None) -> PolicyRow:
    rows = [r for r in plan.policies if r.policy.startswith(prefix)]
    if allowed is not None:
        rows = [r for r in rows if any(a in r.policy for a in allowed)]
    if not rows:
        raise ConfigError(f"no {prefix} policy was judged: run without --no-policies")
    safe = [r for r in rows if r.meets]
    return min(safe, key=lambda r: r.gpu_hours) if safe else rows[0]


def _milli(value: float) -> str:
    return f"{max(1, round(value * 1000))}m"


def hpa_objects(
    plan: SchedulePlan, capacity: tuple[int, int], name: str = "pdplan"
) -> list[dict[str, Any]]:
    """An HPA per phase at the threshold policy's cheapest safe target; ``capacity``: prefill
    servers per instance and the decode batch that meets TPOT (what one pod holds at 100 %)."""
    row = _row(plan, "threshold")
    assert row.value is not None
    steps = plan.schedule.steps
    out = []
    for k, (phase, attr) in enumerate(_PHASES):
        counts = [getattr(s, attr) for s in steps]
        out.append(
            {
                "apiVersion": "autoscaling/v2",
                "kind": "HorizontalPodAutoscaler",
                "metadata": {"name": f"{name}-{phase}"},
                "spec": {
                    "scaleTargetRef": {
                        "apiVersion": "apps/v1",
                        "kind": "Deployment",
                        "name": f"{name}-{phase}",
                    },
                    "minReplicas": min(counts),
                    "maxReplicas": max(2 * max(counts), max(counts) + 4),
                    "metrics": [
                        {
                            "type": "Pods",
                            "pods": {
                                "metric": {"name": POD_METRIC},
                                "target": {
                                    "type": "AverageValue",
                                    "averageValue": _milli(row.value * capacity[k]),
                                },
                            },
                        }
                    ],
                    "behavior": {
                        "scaleUp": {
                            "stabilizationWindowSeconds": 0,
                            "selectPolicy": "Max",
                            "policies": [
                                {"type": "Percent", "value": 100, "periodSeconds": 15},
                                {"type": "Pods", "value": 4, "periodSeconds": 15},
                            ],
                        },
                        "scaleDown": {
                            "stabilizationWindowSeconds": 300,
                            "selectPolicy": "Max",
                            "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
                        },
                    },
                },
            }
        )
    return out


def planner_settings(
    plan: SchedulePlan, metadata: ProfileMetadata, gpus: tuple[int, int], interval_s: float
) -> tuple[dict[str, Any], PolicyRow]:
    """Dynamo planner settings for the cheapest safe throughput policy Dynamo can run."""
    row = _row(plan, "throughput", ("constant", "kalman"))
    predictor = "kalman" if "kalman" in row.policy else "constant"
    steps = plan.schedule.steps
    peak = max(s.prefill_instances for s in steps), max(s.decode_instances for s in steps)
    headroom = row.value or 1.0
    budget = math.ceil(headroom * (peak[0] * gpus[0] + peak[1] * gpus[1]))
    settings = {
        "environment": "kubernetes",
        "backend": backend_of(metadata)[0],
        "mode": "disagg",
        "optimization_target": "sla",
        "enable_throughput_scaling": True,
        "enable_load_scaling": False,
        "throughput_adjustment_interval_seconds": round(interval_s),
        "load_predictor": predictor,
        "ttft_ms": plan.slo.ttft_s * 1000,
        "itl_ms": plan.slo.tpot_s * 1000,
        "prefill_engine_num_gpu": gpus[0],
        "decode_engine_num_gpu": gpus[1],
        "prefill_min_endpoint": min(s.prefill_instances for s in steps),
        "decode_min_endpoint": min(s.decode_instances for s in steps),
        "max_gpu_budget": budget,
        "max_throughput_scaling_replicas": max(8, math.ceil(headroom * max(peak))),
    }
    return settings, row


def export_schedule(
    plan: SchedulePlan,
    target: str,
    metadata: ProfileMetadata,
    *,
    capacity: tuple[int, int],
    gpus: tuple[int, int],
    interval_s: float,
) -> tuple[str, list[str]]:
    """The export's text, and notes for the user (what it assumes, what it cannot say)."""
    if target == "keda":
        docs = keda_objects(plan)
        notes = [
            "time 0 of the trace is 00:00 UTC; set each scaleTargetRef to your deployment",
        ]
        return yaml.safe_dump_all(docs, sort_keys=False), notes
    if target == "hpa":
        row = _row(plan, "threshold")
        notes = [
            f"{POD_METRIC}: requests running + waiting per pod (e.g. vllm:num_requests_running + "
            "vllm:num_requests_waiting through prometheus-adapter); the HPA's tolerance is the "
            "controller's default 10 %"
        ]
        if not row.meets:
            notes.append(
                f"no target tried meets every window ({row.windows_met}/{row.windows} at "
                f"{row.value:g}): this HPA will miss the SLOs on this traffic"
            )
        return yaml.safe_dump_all(hpa_objects(plan, capacity), sort_keys=False), notes
    settings, row = planner_settings(plan, metadata, gpus, interval_s)
    notes = [
        f"{row.policy} met {row.windows_met}/{row.windows} windows on replay with headroom "
        f"{row.value:g}; Dynamo's planner has no headroom factor: it plans at headroom 1, which "
        "the replay judged separately"
    ]
    return json.dumps(settings, indent=2) + "\n", notes
