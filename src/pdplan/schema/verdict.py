"""The one SLO verdict: does a run (simulated or measured) meet the SLOs?

A run meets the SLOs when it has requests, its load generator kept its schedule (a measured
run whose client sent late measured the client), their errors stay within the allowed share,
it keeps up with the offered load (when one was offered steadily), and the SLO's statistic of
TTFT and of TPOT (``SLO.ttft_stat``/``tpot_stat``: the mean or a percentile) is within its
objective. A run whose requests all have one output token has no TPOT: that objective holds
vacuously. The first failure, in that order, is what binds. Pure.
"""

from __future__ import annotations

from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict

from pdplan.quantiles import Stat
from pdplan.schema.workload import SLO

__all__ = ["KEEP_UP_SHARE", "MAX_ERROR_SHARE", "Failure", "Summary", "Verdict", "judge"]

#: A steady run keeps up when it completes at least this share of the offered rate.
KEEP_UP_SHARE = 0.97
#: A measured run may lose at most this share of its requests to errors.
MAX_ERROR_SHARE = 0.01

Failure = Literal["no_requests", "generator", "errors", "throughput", "ttft", "tpot"]


class Summary(Protocol):
    """What a verdict reads: a statistic by name (a :class:`~pdplan.quantiles.Distribution`,
    or a benchmark tool's reported summary)."""

    def stat(self, name: Stat) -> float | None: ...


class Verdict(BaseModel):
    """Whether the SLOs hold, and the first thing that failed.

    :ivar ttft_s: the SLO's TTFT statistic measured (None without requests)
    :ivar tpot_s: the SLO's TPOT statistic measured (None without multi-token requests)
    :ivar ttft_met: the TTFT statistic is within its objective (whatever else failed)
    :ivar tpot_met: the TPOT statistic is within its objective (or there is no TPOT)
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    meets: bool
    failure: Failure | None
    ttft_s: float | None
    tpot_s: float | None
    ttft_met: bool = False
    tpot_met: bool = False


def judge(
    ttft_s: Summary | None,
    tpot_s: Summary | None,
    slo: SLO,
    *,
    offered_rps: float | None = None,
    completed_rps: float | None = None,
    requests: int | None = None,
    failed: int = 0,
    generator_behind: bool = False,
) -> Verdict:
    """The verdict on one run.

    :param ttft_s: TTFT of the successful requests, seconds
    :param tpot_s: TPOT of the successful multi-token requests, seconds
    :param offered_rps: the steady offered rate; with ``completed_rps``, the keep-up check
    :param requests: requests sent (successes + failures), for the error share
    :param failed: requests that failed
    :param generator_behind: the load generator could not keep the schedule

    >>> from pdplan.quantiles import Distribution
    >>> slo = SLO(ttft_s=1.0, tpot_s=0.02, ttft_stat="p90")
    >>> judge(Distribution.of([0.5, 0.8, 1.5]), Distribution.of([0.01]), slo).failure
    'ttft'
    >>> judge(Distribution.of([0.5]), None, slo).meets  # one-token requests: TPOT holds
    True
    """
    ttft = None if ttft_s is None else ttft_s.stat(slo.ttft_stat)
    tpot = None if tpot_s is None else tpot_s.stat(slo.tpot_stat)
    failure: Failure | None = None
    if ttft is None:
        failure = "no_requests"
    elif generator_behind:
        failure = "generator"
    elif requests and failed > MAX_ERROR_SHARE * requests:
        failure = "errors"
    elif (
        offered_rps is not None
        and completed_rps is not None
        and completed_rps < KEEP_UP_SHARE * offered_rps
    ):
        failure = "throughput"
    elif ttft > slo.ttft_s:
        failure = "ttft"
    elif tpot is not None and tpot > slo.tpot_s:
        failure = "tpot"
    return Verdict(
        meets=failure is None,
        failure=failure,
        ttft_s=ttft,
        tpot_s=tpot,
        ttft_met=ttft is not None and ttft <= slo.ttft_s,
        tpot_met=tpot is None or tpot <= slo.tpot_s,
    )
