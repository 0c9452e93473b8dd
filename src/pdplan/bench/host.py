"""The measuring machine's CPU, for a profile's metadata: a CPU engine's speed depends on its
vector extensions (the vLLM CPU build runs bf16 fast only with AVX-512 BF16 or AMX; on an
AVX2-only CPU the same setup prefilled ~30x slower), so a profile says where it was measured.
Reads ``/proc/cpuinfo`` (Linux); elsewhere the platform's processor string."""

from __future__ import annotations

import platform
from pathlib import Path

__all__ = ["VECTOR_FLAGS", "cpu_summary"]

#: The CPU flags that decide how fast a CPU engine runs, in the order they are reported.
VECTOR_FLAGS = ("avx2", "avx512f", "avx512_bf16", "avx512_fp16", "amx_bf16", "amx_int8")


def cpu_summary(cpuinfo: Path = Path("/proc/cpuinfo")) -> str | None:
    """``"<model name> (<cores> cores; avx2 avx512f ...)"``, or None when unknown.

    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile("w", delete=False) as f:
    ...     _ = f.write("model name\\t: Test CPU\\nflags\\t: fpu avx2 sse\\n\\n")
    >>> cpu_summary(Path(f.name))
    'Test CPU (1 cores; avx2)'
    >>> os.unlink(f.name)
    """
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return platform.processor() or None
    model, flags, cores = None, set[str](), 0
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name":
            model, cores = model or value.strip(), cores + 1
        elif key == "flags" and not flags:
            flags = set(value.split())
    if model is None:
        return platform.processor() or None
    found = " ".join(f for f in VECTOR_FLAGS if f in flags) or "no AVX2"
    return f"{model} ({cores} cores; {found})"
