"""Autoscaling policies (Dynamo's throughput planner, a Kubernetes HPA) replayed and judged
on the same trace as a schedule. Pure."""

from pdplan.plan.autoscale.judge import PolicyJob, PolicyRow, policy_jobs, row_of, search_policy
from pdplan.plan.autoscale.policies import Capacity, ThresholdPolicy, ThroughputPolicy

__all__ = [
    "Capacity",
    "PolicyJob",
    "PolicyRow",
    "ThresholdPolicy",
    "ThroughputPolicy",
    "policy_jobs",
    "row_of",
    "search_policy",
]
