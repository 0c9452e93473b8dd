"""Closed-form queueing results. Pure math on floats, standard library only."""

from __future__ import annotations

from pdplan.queueing.mm1 import (
    mm1_max_arrival_rate_rps,
    mm1_mean_sojourn_s,
    mm1_mean_wait_s,
    mm1_sojourn_quantile_s,
)

__all__ = [
    "mm1_max_arrival_rate_rps",
    "mm1_mean_sojourn_s",
    "mm1_mean_wait_s",
    "mm1_sojourn_quantile_s",
]
