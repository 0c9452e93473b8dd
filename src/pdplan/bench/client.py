"""HTTP access to one OpenAI-compatible engine, and the timed streaming completion.

Timestamps are taken with ``time.perf_counter()`` as SSE lines arrive: the first line that
carries a choice stamps the first token, the last such line the last token. Token counts come
from the ``usage`` block (``stream_options.include_usage``), never from chunks: engines put
several tokens in one chunk under load. A cancelled or failed request keeps what it measured,
with ``error`` set.

aiohttp, not httpx: against vLLM 0.32 (CPU) httpx 0.28 intermittently received a whole
streamed response at once when requests followed each other without a gap (response headers
arriving only after the last token, ~half of back-to-back requests), which corrupts TTFT and
TPOT; aiohttp and raw sockets streamed every token as it was produced (see the README).
"""

from __future__ import annotations

import asyncio
import json
import os
from time import perf_counter
from typing import Any

import aiohttp

from pdplan.bench.records import RequestRecord
from pdplan.errors import BenchmarkError

__all__ = ["API_KEY_ENV", "EngineClient", "completion_body"]

API_KEY_ENV = ("PDPLAN_API_KEY", "OPENAI_API_KEY")


def completion_body(
    model: str, prompt: list[int] | str, max_tokens: int, *, ignore_eos: bool = True
) -> dict[str, Any]:
    """A streaming completion request that asks for exact output length and usage."""
    return {
        "model": model,
        "prompt": prompt,
        "max_tokens": max_tokens,
        "temperature": 0.0,
        "stream": True,
        "stream_options": {"include_usage": True},
        "ignore_eos": ignore_eos,
    }


def _apply_chunk(record: RequestRecord, data: str, now: float) -> None:
    try:
        obj = json.loads(data)
    except json.JSONDecodeError:
        raise BenchmarkError(f"bad SSE data line: {data[:120]!r}") from None
    if obj.get("error"):
        record.error = f"stream error: {str(obj['error'])[:200]}"
        return
    if obj.get("choices"):
        record.chunks += 1
        if record.t_first_s is None:
            record.t_first_s = now
        record.t_last_s = now
    usage = obj.get("usage")
    if usage:
        record.prompt_tokens = usage.get("prompt_tokens")
        record.completion_tokens = usage.get("completion_tokens")


class EngineClient:
    """One engine's base URL; the API key (if any) comes from the environment.

    Use as ``async with EngineClient(url) as client``.
    """

    def __init__(self, base_url: str, *, timeout_s: float = 600.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_s, sock_connect=10.0)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> EngineClient:
        headers = {}
        for name in API_KEY_ENV:
            if os.environ.get(name):
                headers["Authorization"] = f"Bearer {os.environ[name]}"
                break
        connector = aiohttp.TCPConnector(limit=0, force_close=False)
        self._session = aiohttp.ClientSession(
            headers=headers, timeout=self._timeout, connector=connector
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("EngineClient used outside 'async with'")
        return self._session

    async def _call(self, method: str, path: str, body: Any = None) -> tuple[int, str]:
        url = f"{self.base_url}{path}"
        try:
            async with self.session.request(method, url, json=body) as response:
                return response.status, await response.text()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise BenchmarkError(
                f"{self.base_url}: cannot reach the server ({type(exc).__name__})"
            ) from None

    async def get_text(self, path: str) -> str:
        status, text = await self._call("GET", path)
        if status != 200:
            raise BenchmarkError(f"{self.base_url}{path}: HTTP {status}")
        return text

    async def get_json(self, path: str) -> Any:
        return json.loads(await self.get_text(path))

    async def post_json(self, path: str, body: dict[str, Any]) -> Any:
        status, text = await self._call("POST", path, body)
        if status != 200:
            raise BenchmarkError(f"{self.base_url}{path}: HTTP {status}: {text[:200]}")
        return json.loads(text)

    async def discover_model(self) -> str:
        """The first model id that ``GET /v1/models`` lists."""
        try:
            return str((await self.get_json("/v1/models"))["data"][0]["id"])
        except (ValueError, KeyError, IndexError, TypeError):
            raise BenchmarkError(f"{self.base_url}/v1/models: no model listed") from None

    async def stream_completion(self, body: dict[str, Any], record: RequestRecord) -> RequestRecord:
        """POST ``body`` to ``/v1/completions``; fill ``record`` as lines arrive.

        Never raises for a failed request: the error goes to ``record.error``. Cancellation
        stores ``"cancelled"`` and propagates.
        """
        record.t_send_s = perf_counter()
        try:
            async with self.session.post(f"{self.base_url}/v1/completions", json=body) as response:
                if response.status != 200:
                    text = await response.text()
                    record.error = f"HTTP {response.status}: {text[:200]}"
                    return record
                async for raw in response.content:
                    line = raw.decode("utf-8", "replace").strip()
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    _apply_chunk(record, data, perf_counter())
            if record.error is None and record.completion_tokens is None:
                record.error = (
                    "no usage block in the stream (stream_options.include_usage ignored?)"
                )
        except asyncio.CancelledError:
            record.error = "cancelled"
            raise
        except (aiohttp.ClientError, TimeoutError, BenchmarkError) as exc:
            record.error = f"{type(exc).__name__}: {str(exc)[:200]}"
        finally:
            record.t_end_s = perf_counter()
        return record
