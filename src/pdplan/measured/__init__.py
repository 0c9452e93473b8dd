"""Benchmark results of other tools (vllm bench serve, SGLang bench_serving, guidellm, aiperf,
inference-perf) and of ``pdplan loadtest``, read into one type (:class:`BenchRun`), turned
into profile parts (:mod:`pdplan.measured.to_profile`) and compared with pdplan's predictions
(:mod:`pdplan.measured.compare`). Pure: :mod:`pdplan.io` opens the files."""

from pdplan.measured.runs import BenchRun, ReportedStats

__all__ = ["BenchRun", "ReportedStats"]
