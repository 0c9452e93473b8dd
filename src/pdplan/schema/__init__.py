"""Typed data models (pydantic v2): profiles, workloads and SLOs, plans."""

from __future__ import annotations

from pdplan.schema.plan import Allocation, DecodePlan, Plan, PrefillPlan
from pdplan.schema.profile import (
    DecodeCurve,
    DecodePoint,
    DecodeProfile,
    PrefillPoint,
    PrefillProfile,
    Profile,
    ProfileMetadata,
)
from pdplan.schema.trace import Trace
from pdplan.schema.workload import SLO, Workload

__all__ = [
    "SLO",
    "Allocation",
    "DecodeCurve",
    "DecodePlan",
    "DecodePoint",
    "DecodeProfile",
    "Plan",
    "PrefillPlan",
    "PrefillPoint",
    "PrefillProfile",
    "Profile",
    "ProfileMetadata",
    "Trace",
    "Workload",
]
