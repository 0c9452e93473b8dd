"""The options of ``pdplan profile``'s commands, declared once: what every measurement takes
(``common``), the prefill steps and the decode steps."""

from __future__ import annotations

from pathlib import Path

import click

from pdplan.cli.options import client_options, plot_option, prompt_mode_option, seed_option

__all__ = ["MAX_CONCURRENCY", "MAX_ISL", "common", "decode_options", "prefill_options"]

#: The most concurrent requests one profiling step opens (vLLM schedules 256-1,024 sequences
#: per instance by default; beyond a few thousand the client, not the engine, is measured).
MAX_CONCURRENCY = 4096
#: The longest prompt pdplan builds.
MAX_ISL = 10_000_000


common = [
    click.option(
        "--out",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("pdplan-profile"),
        show_default=True,
        help="Output directory; a re-run resumes the steps already measured.",
    ),
    click.option(
        "--served-model",
        "model",
        help="Served model id to request (default: the first in /v1/models).",
    ),
    prompt_mode_option(),
    click.option(
        "--prefill-gpus",
        type=click.IntRange(min=1),
        default=1,
        help="GPUs per prefill instance (default: the count --hardware opens with, e.g. "
        "8xH100; else 1).",
    ),
    click.option(
        "--decode-gpus",
        type=click.IntRange(min=1),
        default=1,
        help="GPUs per decode instance (default: the count --hardware opens with; else 1).",
    ),
    click.option(
        "--kv-capacity-tokens",
        type=click.IntRange(min=1),
        help="KV-cache capacity of a decode instance, tokens (caps the batch).",
    ),
    click.option(
        "--hardware",
        help="Hardware of one instance, for the profile's metadata, e.g. 8xH100 (its count is "
        "the GPUs per instance unless --prefill-gpus/--decode-gpus say otherwise).",
    ),
    seed_option,
    plot_option("the profile (TTFT against rate, TPOT against batch) once it is whole"),
    *client_options,
    click.option(
        "--min-duration",
        default="5s",
        show_default=True,
        help="Shortest saturation/decode step, e.g. 5s, 0s (steps also run >= the request counts).",
    ),
]


prefill_options = [
    click.option(
        "--isl",
        "isl_text",
        default="1024",
        show_default=True,
        help="Input lengths to measure, e.g. 512,1024,2048.",
    ),
    click.option(
        "--concurrency",
        type=click.IntRange(min=1, max=MAX_CONCURRENCY),
        help="Closed-loop concurrency for TPmax (default: ramp 1,2,4,... until flat).",
    ),
    click.option(
        "--requests",
        type=click.IntRange(min=4, max=1_000_000),
        default=48,
        show_default=True,
        help="Requests per saturation step.",
    ),
    click.option(
        "--loads",
        default="0.5,0.7,0.85",
        show_default=True,
        help="Poisson TTFT sweep at these utilizations ('none' to skip). The planner reads the "
        "engine's service variability from it (--model auto/queueing). More requests per point "
        "read it better: at 85 % utilization one run of 300 requests shows a mean queueing "
        "delay within -50..+75 % of the steady state 9 times in 10 (1500: -32..+45 %).",
    ),
    click.option(
        "--sweep-requests",
        type=click.IntRange(min=10, max=1_000_000),
        default=300,
        show_default=True,
        help="Requests per sweep point (per chunk with --precision).",
    ),
    click.option(
        "--precision",
        help="Run each sweep point on, --sweep-requests at a time, until its mean TTFT's 90% "
        "interval is within this share of the mean, e.g. 10%.",
    ),
    click.option(
        "--point-budget",
        default="10min",
        show_default=True,
        help="Longest time one sweep point may take with --precision (it says when the "
        "precision was not reached).",
    ),
]
decode_options = [
    click.option(
        "--decode-isl",
        type=click.IntRange(min=1, max=MAX_ISL),
        default=1024,
        show_default=True,
        help="Input tokens of every decode request (the workload's ISL: TPOT depends on the "
        "context).",
    ),
    click.option(
        "--osl",
        type=click.IntRange(min=2, max=MAX_ISL),
        default=128,
        show_default=True,
        help="Output tokens of every decode request (ignore_eos).",
    ),
    click.option(
        "--batch",
        "batch_text",
        default="1,2,4,8,16",
        show_default=True,
        help="Decode batch sizes (concurrency) to sweep.",
    ),
    click.option(
        "--rounds",
        type=click.IntRange(min=3, max=10_000),
        default=4,
        show_default=True,
        help="Requests per worker at each batch size.",
    ),
]
