"""How requests are placed on instances: one vocabulary for the planner and the simulator.

Prefill: ``random`` (each request to a uniformly drawn instance: independent queues, one per
instance or attention-DP group), ``round_robin``, ``least_outstanding`` (the instance with the
fewest queued tokens), or ``pooled`` (one FCFS queue that every instance serves, M/M/c-like).
Decode: ``least_loaded`` (the instance with the fewest active and waiting requests),
``round_robin`` or ``random``. The planning models describe the routings in
:data:`PLANNED_PREFILL_ROUTINGS` and :data:`PLANNED_DECODE_ROUTINGS`; the simulator runs all.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = [
    "DECODE_ROUTINGS",
    "PLANNED_DECODE_ROUTINGS",
    "PLANNED_PREFILL_ROUTINGS",
    "PREFILL_ROUTINGS",
    "DecodeRouting",
    "PrefillRouting",
]

PrefillRouting = Literal["random", "round_robin", "least_outstanding", "pooled"]
DecodeRouting = Literal["least_loaded", "round_robin", "random"]
PREFILL_ROUTINGS: tuple[str, ...] = get_args(PrefillRouting)
DECODE_ROUTINGS: tuple[str, ...] = get_args(DecodeRouting)
PLANNED_PREFILL_ROUTINGS: tuple[str, ...] = ("random", "pooled")
PLANNED_DECODE_ROUTINGS: tuple[str, ...] = ("least_loaded", "random")
