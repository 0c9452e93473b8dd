"""A stand-in for the engine and router commands a launch script runs, for fast tests.

``python tests/fakes/fake_launch.py -m vllm.entrypoints.openai.api_server --port P ...`` (or
any command line with ``--port P``) records its arguments and device environment as one JSON
line in ``$FAKE_LAUNCH_LOG`` and serves the fake engine (with ``/health``) on port P until
killed.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[2]))

from tests.fakes.openai_server import FakeEngine


def main() -> None:
    argv = sys.argv[1:]
    port = int(argv[argv.index("--port") + 1])
    env = {k: v for k, v in os.environ.items() if k.startswith(("CUDA_", "VLLM_"))}
    with open(os.environ["FAKE_LAUNCH_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps({"argv": argv, "env": env}) + "\n")
    engine = FakeEngine(prefill_tps=1e6, tpot_base_s=0.001, tpot_per_request_s=0.0)

    async def serve() -> None:
        server = await asyncio.start_server(engine.handle, "127.0.0.1", port)
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
