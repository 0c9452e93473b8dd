"""Closed-form queueing results. Pure math on floats, standard library only."""

from __future__ import annotations

from pdplan.queueing.erlang_c import erlang_c, mmc_mean_sojourn_s, mmc_mean_wait_s
from pdplan.queueing.md1 import md1_mean_sojourn_s, md1_mean_wait_s
from pdplan.queueing.mm1 import (
    mm1_max_arrival_rate_rps,
    mm1_mean_sojourn_s,
    mm1_mean_wait_s,
    mm1_sojourn_quantile_s,
)

__all__ = [
    "erlang_c",
    "md1_mean_sojourn_s",
    "md1_mean_wait_s",
    "mm1_max_arrival_rate_rps",
    "mm1_mean_sojourn_s",
    "mm1_mean_wait_s",
    "mm1_sojourn_quantile_s",
    "mmc_mean_sojourn_s",
    "mmc_mean_wait_s",
]
