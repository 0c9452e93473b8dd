"""Load tests of a live (P/D) deployment: open-loop arrivals of a workload at multiples of its
rate.

Each step draws the workload's requests (:meth:`~pdplan.schema.workload.Workload.requests`,
the same generator the simulator uses: Poisson or gamma arrivals with the length
distributions, or a trace replayed faster by the multiplier) for a duration, streams them, and
reports the offered load actually sent (and how late the generator sent it), the achieved
throughput, TTFT and TPOT (mean, p50, p90, p99), SLO attainment, errors and the verdict. Every
request is on disk when it ends; a step that hits a failing deployment is reported with its
errors, not crashed on; the sweep keeps going.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from pdplan.bench.records import RequestRecord
from pdplan.bench.session import Session
from pdplan.bench.workers import CPU_PER_REQUEST_S, WorkerInfo
from pdplan.errors import ConfigError
from pdplan.quantiles import Distribution
from pdplan.schema.parts import LoadtestStep, WorkerLoad
from pdplan.schema.verdict import judge
from pdplan.schema.workload import SLO, Workload

__all__ = [
    "MAX_RATE_RPS",
    "MAX_STEP_REQUESTS",
    "MAX_STEP_S",
    "LoadtestSettings",
    "LoadtestStep",
    "read_step",
    "run_loadtest",
    "step_summary",
]

#: The generator is the bottleneck when its send lag p99 exceeds this (or 1 % of the TTFT SLO).
LAG_LIMIT_S = 0.010
#: The most one load-generator worker is asked to send: a streamed request costs it about
#: :data:`pdplan.bench.workers.CPU_PER_REQUEST_S` of CPU (docs/measuring.md, "Measurement
#: quality"; one worker kept up to a median 283 req/s here), so beyond this it measures
#: itself; below it, a step whose sends lag behind the schedule fails (--max-send-lag).
MAX_RATE_RPS = 1_000.0
#: Longest step and most requests per step (the schedule is drawn up front).
MAX_STEP_S = 86_400.0
MAX_STEP_REQUESTS = 1_000_000


@dataclass(frozen=True)
class LoadtestSettings:
    workload: Workload  # the target (multiplier 1.0)
    duration_s: float  # per step, for generated arrivals (a replay lasts as long as it lasts)
    slo: SLO
    multipliers: tuple[float, ...] = (1.0,)
    seed: int = 42
    workers: int = 1  # load-generator processes (or Ray actors) sending each step
    max_send_lag_s: float | None = None  # None: 10 ms or 1 % of the TTFT SLO, the larger

    def __post_init__(self) -> None:
        top = self.peak_rps
        if top > MAX_RATE_RPS * self.workers:
            raise ConfigError(
                f"the busiest step offers {top:.6g} req/s; {self.workers} worker(s) send at "
                f"most {MAX_RATE_RPS * self.workers:,.0f} req/s ({MAX_RATE_RPS:,.0f} each: a "
                f"streamed request costs a worker ~{CPU_PER_REQUEST_S * 1e3:.2g} ms of CPU): "
                "lower the rate or the --sweep, or add --workers (on this machine, 1..4096) or "
                "--ray (a cluster)"
            )
        if not self.workload.replays_trace:
            if self.duration_s > MAX_STEP_S:
                raise ConfigError(
                    f"--duration: at most {MAX_STEP_S / 3600:g}h per step, got "
                    f"{self.duration_s:.6g} s"
                )
            count = top * self.duration_s
            if count > MAX_STEP_REQUESTS:
                raise ConfigError(
                    f"the busiest step would send {count:,.0f} requests; at most "
                    f"{MAX_STEP_REQUESTS:,} per step: shorten --duration"
                )

    @property
    def peak_rps(self) -> float:
        """The busiest step's mean rate."""
        return max(self.multipliers) * self.workload.rate_rps

    @property
    def lag_limit_s(self) -> float:
        """The send lag p99 above which a step measures the generator."""
        if self.max_send_lag_s is not None:
            return self.max_send_lag_s
        return max(LAG_LIMIT_S, 0.01 * self.slo.ttft_s)

    def schedule(self, multiplier: float) -> tuple[list[float], list[tuple[int, int]]]:
        """Send times and (ISL, OSL) of one step."""
        workload = self.workload.scaled(multiplier)
        rng = random.Random(f"{self.seed}/{multiplier}")
        count = max(1, round(workload.rate_rps * self.duration_s))
        requests = workload.requests(count, rng)
        return list(requests.arrival_s), list(
            zip(requests.isl_tokens, requests.osl_tokens, strict=True)
        )


def step_summary(
    records: list[RequestRecord],
    multiplier: float,
    scheduled_rps: float,
    slo: SLO,
    *,
    lag_limit_s: float | None = None,
    workers: list[WorkerInfo] | None = None,
    worker_cpu_s: dict[int, float | None] | None = None,
) -> LoadtestStep:
    """What one step delivered; ``meets_slo`` is :func:`pdplan.schema.verdict.judge`'s
    verdict, and a step whose generator (any worker) sent late fails as ``generator``."""
    ok = [r for r in records if r.ok]
    ttft = Distribution.of(r.ttft_s for r in ok)
    tpot = Distribution.of(r.tpot_s for r in ok)
    met = [
        r
        for r in ok
        if r.ttft_s is not None
        and r.ttft_s <= slo.ttft_s
        and (r.tpot_s is None or r.tpot_s <= slo.tpot_s)
    ]
    ends = [r.t_end_s for r in ok if r.t_end_s is not None]
    span = (max(ends) - min(r.t_send_s for r in ok)) if ok and ends else 0.0
    tokens = sum((r.prompt_tokens or 0) + (r.completion_tokens or 0) for r in ok)
    lag = Distribution.of(r.extra.get("send_lag_s") for r in records)
    failed = len(records) - len(ok)
    limit = lag_limit_s or max(LAG_LIMIT_S, 0.01 * slo.ttft_s)
    per_worker = None if workers is None else _per_worker(records, workers, worker_cpu_s or {})
    lags = [lag] if per_worker is None else [w.send_lag_s for w in per_worker]
    behind = any(x is not None and x.p99 > limit for x in lags)
    verdict = judge(ttft, tpot, slo, requests=len(records), failed=failed, generator_behind=behind)
    return LoadtestStep(
        multiplier=multiplier,
        scheduled_rps=scheduled_rps,
        offered_rps=_sent_rps(records) or scheduled_rps,
        send_lag_s=lag,
        generator_behind=behind,
        send_lag_limit_s=limit,
        workers=per_worker,
        requests=len(records),
        failed=failed,
        first_error=next((r.error for r in records if r.error), None),
        achieved_rps=len(ok) / span if span > 0 else 0.0,
        achieved_total_tps=tokens / span if span > 0 else 0.0,
        ttft_s=ttft,
        tpot_s=tpot,
        slo_attainment=len(met) / len(records) if records else 0.0,
        meets_slo=verdict.meets,
        failure=verdict.failure,
    )


def _sent_rps(records: list[RequestRecord]) -> float:
    """The rate actually sent: requests over the span of their send times (0: too few)."""
    sends = sorted(r.t_send_s for r in records)
    span = sends[-1] - sends[0] if len(sends) > 1 else 0.0
    return (len(sends) - 1) / span if span > 0 else 0.0


def _per_worker(
    records: list[RequestRecord], workers: list[WorkerInfo], cpu_s: dict[int, float | None]
) -> list[WorkerLoad]:
    out = []
    for info in workers:
        mine = [r for r in records if r.extra.get("worker") == info.worker]
        out.append(
            WorkerLoad(
                worker=info.worker,
                host=info.host,
                requests=len(mine),
                offered_rps=_sent_rps(mine),
                send_lag_s=Distribution.of(r.extra.get("send_lag_s") for r in mine),
                cpu_s=cpu_s.get(info.worker),
                clock_offset_s=info.clock_offset_s,
                clock_uncertainty_s=info.clock_uncertainty_s,
            )
        )
    return out


async def run_loadtest(session: Session, s: LoadtestSettings) -> list[LoadtestStep]:
    """Every step of the sweep; finished steps found on disk are reused (resume), validated.

    Give the session ``max_failure_share=1.0``: a failing deployment is a result here.
    """
    results = []
    for multiplier in s.multipliers:
        step = f"loadtest/x{multiplier:g}"
        done = session.finished(step)
        if done is None:
            times, lengths = s.schedule(multiplier)
            records = await session.open_loop(step, 1, 2, times, lengths)
            failed = sum(not r.ok for r in records)
            if failed:
                session.reporter.note(f"{step}: {failed} of {len(records)} requests failed")
            window = times[-1] - times[0]
            scheduled = (len(times) - 1) / window if window > 0 else 0.0
            pool = session.pool
            summary = step_summary(
                records,
                multiplier,
                scheduled,
                s.slo,
                lag_limit_s=s.lag_limit_s,
                workers=None if pool is None else pool.info,
                worker_cpu_s=None if pool is None else pool.last_cpu_s,
            )
            if summary.generator_behind:
                lags = [summary.send_lag_s] + [w.send_lag_s for w in summary.workers or []]
                worst = max(x.p99 for x in lags if x is not None)
                session.reporter.note(
                    f"{step}: the load generator sent late (send lag p99 up to "
                    f"{worst * 1e3:.1f} ms, limit {s.lag_limit_s * 1e3:.0f} ms): the generator, "
                    "not the server, was the bottleneck; the step fails (add --workers or --ray)"
                )
            done = session.save_step(step, summary.model_dump(mode="json", exclude={"run_id"}))
        # the step as on disk (with the run that measured it), fresh or resumed alike
        results.append(read_step(done, step))
    return results


def read_step(row: dict[str, Any], step: str) -> LoadtestStep:
    """A step row of ``steps.jsonl``, validated (a resume reads what an earlier run wrote)."""
    fields = {k: v for k, v in row.items() if k not in ("step", "base_url")}
    try:
        return LoadtestStep.model_validate(fields)
    except ValidationError as exc:
        from pdplan.io import format_validation_error

        detail = format_validation_error(exc, f"steps.jsonl, step {step}")
        raise ConfigError(f"{detail}; remove the row to measure the step again") from None
