"""Profiling one aggregated (ordinary) engine: its step-time model from designed client
workloads, then an open-loop rate sweep at the workload's shape as the check.

The step-time model ``t = a + b P + c D + d C`` (:mod:`pdplan.schema.aggregated`) is read off
requests whose steps carry one kind of work at a time:

- **prompts alone**: sequential requests with one output token at a few prompt lengths
  within one step's budget (one chunk each): ``TTFT = overhead + a + b ISL``, so the slope is
  ``b`` and the intercept ``overhead + a``;
- **decodes alone**: the closed-loop decode sweep (:mod:`pdplan.bench.decode`) at two
  contexts, a short one and the workload's: ``TPOT(B) = a + B (c + d context)``, so the
  intercepts give ``a`` and the two slopes ``c`` and ``d`` (after taking off the prompts of
  the requests that start during a request's life, see :func:`fit_step_model`);
- ``overhead = intercept - a``.

The fit's relative RMS error over every point is recorded beside it. Then open-loop Poisson
arrivals of the workload's (ISL, OSL) at ``loads`` x the rate the model says one instance
can carry give the measured TTFT and TPOT against rate (:class:`AggregatedRatePoint`), which
the simulator's replay of the same model can be checked against. The engine's KV capacity is
read from vLLM's ``/metrics`` (``vllm:cache_config_info``) where it is served.
"""

from __future__ import annotations

import math
import random
import re
import statistics
from dataclasses import dataclass, field

from pdplan.bench.decode import DecodeSettings, profile_decode
from pdplan.bench.session import Session
from pdplan.bench.stats import summarize
from pdplan.errors import BenchmarkError
from pdplan.schema.aggregated import AggregatedProfile, AggregatedRatePoint, StepTimeModel
from pdplan.schema.parts import AggregatedPart
from pdplan.schema.profile import DecodeCurve
from pdplan.schema.workload import Workload

__all__ = ["AggregatedSettings", "fit_step_model", "profile_aggregated"]


@dataclass(frozen=True)
class AggregatedSettings:
    isl_tokens: int  # the workload's request shape
    osl_tokens: int
    max_batched_tokens: int  # the engine's step budget (vLLM --max-num-batched-tokens)
    max_seqs: int  # vLLM --max-num-seqs
    gpus_per_instance: int = 1
    short_context_tokens: int = 16  # the decode sweep's short context
    batches: tuple[int, ...] = (1, 2, 4, 8, 16)
    decode_osl_tokens: int = 64  # per request of the decode sweeps
    prompt_isls: tuple[int, ...] = ()  # () : a quarter, half and all of min(budget, ISL)
    idle_requests: int = 6
    loads: tuple[float, ...] = (0.3, 0.6, 0.8)
    sweep_requests: int = 200
    min_duration_s: float = 5.0
    seed: int = 42
    rounds: int = 4
    extra: dict[str, str] = field(default_factory=dict)

    def prompts(self) -> tuple[int, ...]:
        if self.prompt_isls:
            return self.prompt_isls
        top = min(self.max_batched_tokens, self.isl_tokens)
        return tuple(sorted({max(1, top // 4), max(1, top // 2), top}))


def _line(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least-squares intercept and slope (a flat line through the mean for one x)."""
    if len(set(xs)) < 2:
        return statistics.fmean(ys), 0.0
    slope, intercept = statistics.linear_regression(xs, ys)
    return intercept, slope


def fit_step_model(
    prompt_points: list[tuple[int, float]],
    decode_curves: list[tuple[int, int, list[tuple[int, float]]]],
) -> tuple[StepTimeModel, float]:
    """The step-time model and the overhead from (ISL, idle TTFT s) points and, per decode
    sweep (ISL, OSL), (batch, TPOT s) points.

    In a closed-loop decode sweep at batch B the other B - 1 requests each start anew every
    OSL steps, so a request's steps also carry their prompts: ``(B - 1) b ISL / OSL`` per step
    on average, which is taken off each TPOT (with ``b`` from the prompts) before the decode
    lines are fitted at the context ``ISL + OSL / 2``.

    >>> prompts = [(128, 0.010 + 0.005 + 128e-5), (512, 0.010 + 0.005 + 512e-5)]
    >>> def tpot(b, ctx, isl, osl):  # the true step, plus the others' prompts
    ...     return 0.005 + b * (1e-4 + ctx * 1e-7) + (b - 1) * 1e-5 * isl / osl
    >>> curves = [(8, 16, [(1, tpot(1, 16, 8, 16)), (8, tpot(8, 16, 8, 16))]),
    ...           (992, 16, [(1, tpot(1, 1000, 992, 16)), (8, tpot(8, 1000, 992, 16))])]
    >>> m, overhead = fit_step_model(prompts, curves)
    >>> round(m.base_ms, 3), round(m.prefill_token_us, 3), round(m.decode_seq_us, 3)
    (5.0, 10.0, 100.0)
    >>> round(m.context_token_ns, 3), round(overhead, 4)
    (100.0, 0.01)
    """
    if not prompt_points or not decode_curves:
        raise BenchmarkError("the step-time fit needs prompt points and a decode curve")
    intercept_p, b = _line([float(i) for i, _ in prompt_points], [t for _, t in prompt_points])
    b = max(0.0, b)
    corrected = [
        (isl + osl / 2, [(batch, t - (batch - 1) * b * isl / osl) for batch, t in pts])
        for isl, osl, pts in decode_curves
    ]
    fits = [
        (ctx, *_line([float(x) for x, _ in pts], [t for _, t in pts])) for ctx, pts in corrected
    ]
    a = max(0.0, statistics.fmean(i for _, i, _ in fits))
    if len(fits) >= 2 and fits[-1][0] != fits[0][0]:
        (c0, _, s0), (c1, _, s1) = fits[0], fits[-1]
        d = max(0.0, (s1 - s0) / (c1 - c0))
    else:
        d = 0.0
    c = max(0.0, statistics.fmean(s - d * ctx for ctx, _, s in fits))
    overhead = max(0.0, intercept_p - a)
    model = StepTimeModel(
        base_ms=a * 1e3, prefill_token_us=b * 1e6, decode_seq_us=c * 1e6,
        context_token_ns=d * 1e9,
    )  # fmt: skip
    # relative RMS error of the fitted model over every point it rests on (as measured)
    errors = [(overhead + model.step_s(isl, 0, 0) - t) / t for isl, t in prompt_points if t > 0] + [
        (model.step_s(0, batch, batch * (isl + osl / 2)) + (batch - 1) * b * isl / osl - t) / t
        for isl, osl, pts in decode_curves
        for batch, t in pts
        if t > 0
    ]
    rms = math.sqrt(statistics.fmean(e * e for e in errors)) if errors else 0.0
    fitted = model.model_copy(update={"fit_points": len(errors), "fit_error": rms})
    return fitted, overhead


async def _kv_capacity(session: Session) -> int | None:
    """KV tokens from vLLM's ``vllm:cache_config_info`` labels (None where not served)."""
    try:
        text = await session.client.get_text("/metrics")
    except BenchmarkError:
        return None
    for line in text.splitlines():
        if line.startswith("vllm:cache_config_info{"):
            blocks = re.search(r'num_gpu_blocks="(\d+)"', line)
            size = re.search(r'block_size="(\d+)"', line)
            if blocks and size:
                return int(blocks.group(1)) * int(size.group(1))
    return None


async def _prompt_points(session: Session, s: AggregatedSettings) -> list[tuple[int, float]]:
    points = []
    for isl in s.prompts():
        records = await session.sequential(f"aggregated/prompt/isl={isl}", isl, 1, s.idle_requests)
        ttft = summarize(r.ttft_s for r in records if r.ok)
        if not ttft["count"]:
            raise BenchmarkError(f"aggregated prompt ISL {isl}: no request succeeded")
        points.append((isl, float(ttft["p50"])))
    return points


async def _decode_curve(session: Session, s: AggregatedSettings, isl: int) -> DecodeCurve:
    settings = DecodeSettings(
        isl_tokens=isl,
        osl_tokens=s.decode_osl_tokens,
        batches=tuple(b for b in s.batches if b <= s.max_seqs),
        rounds=s.rounds,
        min_duration_s=s.min_duration_s,
    )
    return await profile_decode(session, settings)


async def _sweep(
    session: Session, s: AggregatedSettings, profile: AggregatedProfile
) -> list[AggregatedRatePoint]:
    from pdplan.capacity.aggregated import stable_rate_rps

    workload = Workload.from_rps(isl_tokens=s.isl_tokens, osl_tokens=s.osl_tokens, rate_rps=1.0)
    top = stable_rate_rps(profile, workload)
    points = []
    for load in s.loads:
        rate = load * top
        step = f"aggregated/sweep/isl={s.isl_tokens}/osl={s.osl_tokens}/load={load:g}"
        draw = workload.with_rate(rate).requests(s.sweep_requests, random.Random(s.seed))
        times = list(draw.arrival_s)
        records = await session.open_loop(step, s.isl_tokens, s.osl_tokens, times)
        ok = [r for r in records if r.ok]
        if not ok:
            continue
        ttft = summarize(r.ttft_s for r in ok)
        tpot = summarize(r.tpot_s for r in ok)
        sends = sorted(r.t_send_s for r in records)
        achieved = (len(sends) - 1) / (sends[-1] - sends[0]) if len(sends) > 1 else rate
        points.append(
            AggregatedRatePoint(
                isl_tokens=s.isl_tokens,
                osl_tokens=s.osl_tokens,
                rate_rps=achieved,
                requests=len(ok),
                ttft_mean_s=float(ttft["mean"]),
                ttft_p90_s=float(ttft["p90"]),
                tpot_mean_ms=None if not tpot["count"] else float(tpot["mean"]) * 1e3,
                tpot_p90_ms=None if not tpot["count"] else float(tpot["p90"]) * 1e3,
            )
        )
    return points


async def profile_aggregated(session: Session, s: AggregatedSettings) -> AggregatedPart:
    """The whole campaign against one engine; returns the part (not yet written)."""
    prompts = await _prompt_points(session, s)
    short = await _decode_curve(session, s, s.short_context_tokens)
    curves = [short]
    if s.isl_tokens != s.short_context_tokens:
        curves.append(await _decode_curve(session, s, s.isl_tokens))
    decode_points = [
        (c.isl_tokens, c.osl_tokens, [(p.batch, p.tpot_ms / 1e3) for p in c.points]) for c in curves
    ]
    step, overhead = fit_step_model(prompts, decode_points)
    profile = AggregatedProfile(
        gpus_per_instance=s.gpus_per_instance,
        max_batched_tokens=s.max_batched_tokens,
        max_seqs=s.max_seqs,
        overhead_s=overhead,
        kv_capacity_tokens=await _kv_capacity(session),
        step=step.model_copy(
            update={
                "fitted_from": f"idle prompts at ISL {', '.join(str(i) for i, _ in prompts)}; "
                f"decode sweeps at batch {', '.join(str(b) for b in s.batches)} with contexts "
                f"{', '.join(str(c.isl_tokens) for c in curves)}"
            }
        ),
    )
    sweep = await _sweep(session, s, profile) if s.loads else []
    return AggregatedPart(
        aggregated=profile.model_copy(update={"sweep": sweep}),
        prompt_points=[(i, t) for i, t in prompts],
        decode_curves=curves,
    )
