"""Stream one ``/v1/completions`` request and time it.

Timestamps are taken with ``time.perf_counter()`` as chunks arrive: the first chunk that
carries a choice stamps the first token, the last such chunk the last token. Token counts
come from the ``usage`` block (``stream_options.include_usage``), never from chunks: engines
put several tokens in one chunk under load. A cancelled or failed request keeps what it
measured, with ``error`` set.
"""

from __future__ import annotations

import asyncio
import json
import os
from time import perf_counter
from typing import Any

import httpx

from pdplan.bench.records import RequestRecord
from pdplan.errors import BenchmarkError

__all__ = ["API_KEY_ENV", "completion_body", "discover_model", "make_client", "stream_completion"]

API_KEY_ENV = ("PDPLAN_API_KEY", "OPENAI_API_KEY")


def make_client(timeout_s: float = 600.0, max_connections: int = 1024) -> httpx.AsyncClient:
    """An HTTP client for benchmarking; the API key (if any) comes from the environment."""
    headers = {}
    for name in API_KEY_ENV:
        if os.environ.get(name):
            headers["Authorization"] = f"Bearer {os.environ[name]}"
            break
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections
    )
    return httpx.AsyncClient(
        headers=headers, timeout=httpx.Timeout(timeout_s, connect=10.0), limits=limits
    )


async def discover_model(client: httpx.AsyncClient, base_url: str) -> str:
    """The first model id that ``GET /v1/models`` lists."""
    try:
        response = await client.get(f"{base_url}/v1/models")
    except httpx.HTTPError as exc:
        raise BenchmarkError(f"{base_url}: cannot reach the server: {type(exc).__name__}") from None
    if response.status_code != 200:
        raise BenchmarkError(f"{base_url}/v1/models: HTTP {response.status_code}")
    try:
        return str(response.json()["data"][0]["id"])
    except (ValueError, KeyError, IndexError):
        raise BenchmarkError(f"{base_url}/v1/models: no model listed") from None


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


async def stream_completion(
    client: httpx.AsyncClient, base_url: str, body: dict[str, Any], record: RequestRecord
) -> RequestRecord:
    """Send ``body`` to ``base_url/v1/completions`` and fill ``record`` as chunks arrive.

    Never raises for a failed request: the error is stored in ``record.error``. Cancellation
    stores ``"cancelled"`` and propagates.
    """
    record.t_send_s = perf_counter()
    try:
        async with client.stream("POST", f"{base_url}/v1/completions", json=body) as response:
            if response.status_code != 200:
                text = (await response.aread()).decode("utf-8", "replace")
                record.error = f"HTTP {response.status_code}: {text[:200]}"
                return record
            async for line in response.aiter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                _apply_chunk(record, data, perf_counter())
        if record.error is None and record.completion_tokens is None:
            record.error = "no usage block in the stream (stream_options.include_usage ignored?)"
    except asyncio.CancelledError:
        record.error = "cancelled"
        raise
    except (httpx.HTTPError, BenchmarkError) as exc:
        record.error = f"{type(exc).__name__}: {str(exc)[:200]}"
    finally:
        record.t_end_s = perf_counter()
    return record
