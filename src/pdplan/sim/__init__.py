"""Discrete-event simulation of an xPyD cluster: the referee for every plan.

Pure: no I/O, no wall clock, no global RNG (the seed is in the config).
"""

from __future__ import annotations

from pdplan.sim.cluster import simulate
from pdplan.sim.config import ClusterConfig, SimConfig
from pdplan.sim.metrics import SimResult

__all__ = ["ClusterConfig", "SimConfig", "SimResult", "simulate"]
