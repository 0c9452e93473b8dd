"""Imported runs -> the parts of a pdplan profile, and what they cannot give. Pure.

What each kind of run becomes (runs are grouped by their mean ISL and OSL, rounded):

- **TPmax** (``prefill.max_throughput``): closed-loop runs with one output token
  (``--random-output-len 1``) at rising concurrency. TPmax is the highest input tok/s among
  those at concurrency >= 2; the concurrency-1 run's mean TTFT is the idle TTFT (from which the
  client overhead is derived, as for a pdplan profile).
- **TTFT against rate** (``prefill.ttft_vs_rate``, what ``auto`` reads the engine's queueing
  from): open-loop Poisson runs with one output token and fixed lengths, at an ISL that has a
  TPmax. A point needs the p50, p90 and p99 TTFT: a summary-only file must report them
  (``--metric-percentiles 50,90,99``), or carry the per-request values; a run that completed
  more than 25 % off its scheduled rate is not a point (the client or server fell behind).
- **Decode** (``decode.curves``): closed-loop runs with more than one output token at rising
  concurrency, fixed lengths: the concurrency is the batch, TPOT its time between tokens, the
  output tok/s is kept where it is plausible beside batch / TPOT.
- Open-loop runs with more than one output token are load-test steps: ``pdplan compare``
  reads them, a profile does not.

Nothing is invented: a part the runs cannot give stays missing, and :attr:`Imported.missing`
says which and what run would give it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from pdplan.errors import ConfigError
from pdplan.measured.runs import BenchRun
from pdplan.schema.parts import DecodePart, PartMeta, PrefillPart
from pdplan.schema.profile import (
    OUTPUT_TPS_BAND,
    DecodeCurve,
    DecodePoint,
    PrefillPoint,
    TtftRatePoint,
)

__all__ = ["RATE_HELD", "Imported", "parts_from_runs"]

#: A rate-sweep run whose completed rate differs from its scheduled rate by more than this share
#: is not a TTFT-vs-rate point (guidellm on 2 shared cores completed 24.5 req/s at 50 scheduled).
RATE_HELD = 0.25


@dataclass
class Imported:
    """The parts the runs give, what became of each run, and what is missing."""

    prefill: PrefillPart | None = None
    decode: DecodePart | None = None
    used: list[str] = field(default_factory=list)  # one line per run: what it became
    notes: list[str] = field(default_factory=list)  # caveats on what was imported
    missing: list[str] = field(default_factory=list)  # parts the runs cannot give, and why
    steps: list[BenchRun] = field(default_factory=list)  # open-loop decode runs (compare)


def _isl(run: BenchRun) -> int:
    return max(1, round(run.isl_tokens))


def _tpmax(runs: list[BenchRun], out: Imported) -> list[PrefillPoint]:
    points = []
    by_isl: dict[int, list[BenchRun]] = defaultdict(list)
    for run in runs:
        by_isl[_isl(run)].append(run)
    for isl, group in sorted(by_isl.items()):
        idle = [r for r in group if r.concurrency == 1 and r.ttft_s is not None]
        loaded = [r for r in group if (r.concurrency or 2) >= 2]
        if not loaded:
            out.notes.append(
                f"ISL {isl}: only a concurrency-1 run: no TPmax (add runs at concurrency 2, 4, "
                "8, ... with one output token)"
            )
            continue
        best = max(loaded, key=lambda r: r.input_tps)
        top = max(loaded, key=lambda r: r.concurrency or r.requests)
        if best is top and len(loaded) > 1:
            out.notes.append(
                f"ISL {isl}: input tok/s still rose at the highest concurrency "
                f"({top.concurrency}): TPmax may not be saturated; add a run at twice it"
            )
        elif len(loaded) == 1:
            out.notes.append(
                f"ISL {isl}: TPmax from one concurrency ({best.concurrency}): not shown "
                "saturated; add runs at higher concurrency"
            )
        idle_s = idle[0].ttft_s.mean if idle and idle[0].ttft_s else None
        if idle_s is None:
            out.notes.append(
                f"ISL {isl}: no concurrency-1 run: the idle TTFT, and so the client overhead, "
                "is not known (overhead_s 0 unless measured)"
            )
        points.append(
            PrefillPoint(
                isl_tokens=isl,
                max_tps=best.input_tps,
                concurrency=best.concurrency,
                idle_ttft_s=idle_s,
            )
        )
        out.used.append(
            f"{best.source}: TPmax {best.input_tps:,.0f} tok/s at ISL {isl} (concurrency "
            f"{best.concurrency or 'all at once'})"
        )
        out.used.extend(f"{r.source}: idle TTFT at ISL {isl}" for r in idle[:1])
    return points


#: A loaded run's mean TTFT below this share of the prompt's own compute (ISL / TPmax) or
#: of the idle TTFT at its ISL is refused: a queue never makes a prompt faster, and a value
#: in the wrong unit lies a thousand times below.
_FASTEST_SHARE = 1 / 3


def _check_not_faster(run: BenchRun, point: PrefillPoint) -> None:
    """Refuse a TTFT shorter than the prompt's compute or than the idle TTFT at its ISL."""
    assert run.ttft_s is not None
    floor, what = point.isl_tokens / point.max_tps, "the prompt's compute at TPmax"
    if point.idle_ttft_s is not None and point.idle_ttft_s > floor:
        floor, what = point.idle_ttft_s, "the idle TTFT (concurrency 1)"
    if run.ttft_s.mean < _FASTEST_SHARE * floor:
        raise ConfigError(
            f"{run.source}: {run.ttft_field}: a mean TTFT of {run.ttft_s.mean * 1e3:.4g} ms at "
            f"ISL {point.isl_tokens} is shorter than {what} of the same import "
            f"({floor * 1e3:.4g} ms): the values are not in the unit the format uses (s "
            "written in an _ms field?) or the file is corrupt"
        )


def _sweep(
    runs: list[BenchRun], tpmax: dict[int, PrefillPoint], out: Imported
) -> list[TtftRatePoint]:
    points = []
    for run in runs:
        isl = _isl(run)
        if run.fixed_lengths is False or (run.arrival_scv is not None and run.arrival_scv != 1):
            out.notes.append(
                f"{run.source}: not a fixed-length Poisson run: not a TTFT-vs-rate point"
            )
            continue
        if isl not in tpmax:
            out.notes.append(f"{run.source}: no TPmax at ISL {isl}: its TTFT point is not used")
            continue
        if run.ttft_s is not None:
            _check_not_faster(run, tpmax[isl])
        assert run.rate_rps is not None
        held = run.achieved_rps / run.rate_rps
        if abs(held - 1) > RATE_HELD:
            out.notes.append(
                f"{run.source}: {run.achieved_rps:.3g} req/s completed at {run.rate_rps:.4g} "
                "scheduled (the client or the server did not hold the rate): not a sweep point"
            )
            continue
        t = run.ttft_s
        if t is None or None in (t.p50, t.p90, t.p99):
            out.notes.append(
                f"{run.source}: the file lacks the p50/p90/p99 TTFT (vllm bench serve: "
                "--metric-percentiles 50,90,99, or --save-detailed): not a sweep point"
            )
            continue
        assert run.rate_rps is not None and t.p50 is not None and t.p90 is not None
        assert t.p99 is not None
        points.append(
            TtftRatePoint(
                isl_tokens=isl,
                rate_rps=run.rate_rps,
                ttft_mean_s=t.mean,
                ttft_p50_s=t.p50,
                ttft_p90_s=t.p90,
                ttft_p99_s=t.p99,
                requests=max(run.requests, 1),
            )
        )
        out.used.append(f"{run.source}: TTFT at {run.rate_rps:.4g} req/s, ISL {isl}")
    return sorted(points, key=lambda p: (p.isl_tokens, p.rate_rps))


def _decode(runs: list[BenchRun], out: Imported) -> list[DecodeCurve]:
    shapes: dict[tuple[int, int], dict[int, BenchRun]] = defaultdict(dict)
    for run in runs:
        if run.tpot_s is None or run.concurrency is None:
            continue
        if run.fixed_lengths is False:
            out.notes.append(f"{run.source}: lengths vary: not a decode point")
            continue
        shape = (_isl(run), max(2, round(run.osl_tokens)))
        shapes[shape].setdefault(run.concurrency, run)
    curves = []
    low, high = OUTPUT_TPS_BAND
    for (isl, osl), by_batch in sorted(shapes.items()):
        points = []
        for batch, run in sorted(by_batch.items()):
            assert run.tpot_s is not None
            t = run.tpot_s
            tpot_ms = t.mean * 1e3
            held = batch / t.mean
            keep = low * held <= run.output_tps <= high * held
            if not keep:
                out.notes.append(
                    f"{run.source}: output {run.output_tps:,.0f} tok/s is not plausible beside "
                    f"batch / TPOT = {held:,.0f}: not kept"
                )
            points.append(
                DecodePoint(
                    batch=batch,
                    tpot_ms=tpot_ms,
                    tpot_p50_ms=None if t.p50 is None else t.p50 * 1e3,
                    tpot_p90_ms=None if t.p90 is None else t.p90 * 1e3,
                    tpot_p99_ms=None if t.p99 is None else t.p99 * 1e3,
                    output_tps=run.output_tps if keep and run.output_tps > 0 else None,
                )
            )
            out.used.append(f"{run.source}: decode batch {batch} at ISL {isl} / OSL {osl}")
        curves.append(DecodeCurve(isl_tokens=isl, osl_tokens=osl, points=points))
    return curves


def parts_from_runs(runs: list[BenchRun], meta: PartMeta | None = None) -> Imported:
    """The profile parts the runs give (see the module docstring).

    >>> from pdplan.measured.runs import ReportedStats
    >>> def run(c, tps, ttft):
    ...     return BenchRun(tool="vllm-bench", source=f"c{c}", isl_tokens=512, osl_tokens=1,
    ...                     concurrency=c, duration_s=10, requests=100, input_tps=tps,
    ...                     output_tps=10, achieved_rps=10, ttft_s=ReportedStats(mean=ttft))
    >>> got = parts_from_runs([run(1, 5000, 0.11), run(2, 9000, 0.12), run(4, 8900, 0.2)])
    >>> p = got.prefill.max_throughput[0]
    >>> p.isl_tokens, p.max_tps, p.concurrency, p.idle_ttft_s, got.decode is None
    (512, 9000.0, 2, 0.11, True)
    >>> got.missing[0][:60]
    'decode: no closed-loop run with more than one output token ('
    """
    out = Imported()
    prefill_closed = [r for r in runs if r.prefill_only and not r.open_loop]
    prefill_open = [r for r in runs if r.prefill_only and r.open_loop]
    decode_closed = [r for r in runs if not r.prefill_only and not r.open_loop]
    out.steps = [r for r in runs if not r.prefill_only and r.open_loop]
    for r in runs:
        if r.failed:
            out.notes.append(
                f"{r.source}: {r.failed} failed request(s) (the summary excludes them)"
            )
    tpmax = _tpmax(prefill_closed, out)
    for run in prefill_closed:  # a loaded closed loop is no faster than its ISL's floor
        point = next((p for p in tpmax if p.isl_tokens == _isl(run)), None)
        if point is not None and run.ttft_s is not None and (run.concurrency or 2) >= 2:
            _check_not_faster(run, point)
    sweep = _sweep(prefill_open, {p.isl_tokens: p for p in tpmax}, out)
    if tpmax:
        out.prefill = PrefillPart(max_throughput=tpmax, ttft_vs_rate=sweep, meta=meta)
        if not sweep:
            out.notes.append(
                "prefill: no TTFT-vs-rate point: auto plans with the prior (exponential "
                "service) instead of the engine's measured queueing"
            )
    else:
        out.missing.append(
            "prefill: no closed-loop run with one output token (run at rising --max-concurrency "
            "with --random-output-len 1, --request-rate inf)"
        )
    curves = _decode(decode_closed, out)
    if curves:
        out.decode = DecodePart(curves=curves, meta=meta)
    else:
        out.missing.append(
            "decode: no closed-loop run with more than one output token (run at rising "
            "--max-concurrency with a fixed --random-output-len > 1)"
        )
    out.used.extend(f"{r.source}: a load-test step (pdplan compare)" for r in out.steps)
    return out
