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
from dataclasses import dataclass
from time import perf_counter
from typing import Any

import aiohttp

from pdplan.bench.records import RequestRecord
from pdplan.errors import BenchmarkError, ServerHTTPError, StreamParseError, one_line

__all__ = [
    "API_KEY_ENV",
    "CHAT",
    "COMPLETIONS",
    "DEFAULT_CONNECT_TIMEOUT_S",
    "DEFAULT_REQUEST_TIMEOUT_S",
    "EngineClient",
    "Timeouts",
    "completion_body",
]

API_KEY_ENV = ("PDPLAN_API_KEY", "OPENAI_API_KEY")
#: A request that has not completed by then is a failure (a stalled or overloaded server).
DEFAULT_REQUEST_TIMEOUT_S = 120.0
DEFAULT_CONNECT_TIMEOUT_S = 10.0
#: 200 answers that cannot be a token stream (an error page, a non-streaming completion).
_NOT_STREAMS = ("text/html", "application/json")


COMPLETIONS, CHAT = "/v1/completions", "/v1/chat/completions"


def completion_body(
    model: str,
    prompt: list[int] | str,
    max_tokens: int,
    *,
    ignore_eos: bool = True,
    chat: bool = False,
) -> dict[str, Any]:
    """A streaming completion request that asks for exact output length and usage: a
    completion of ``prompt``, or (``chat``) a chat completion with ``prompt`` as the one user
    message."""
    body: dict[str, Any] = {"model": model}
    if chat:
        body["messages"] = [{"role": "user", "content": prompt}]
    else:
        body["prompt"] = prompt
    return {
        **body,
        "max_tokens": max_tokens,
        "temperature": 0.0,
        "stream": True,
        "stream_options": {"include_usage": True},
        "ignore_eos": ignore_eos,
    }


def _token_count(usage: dict[str, Any], name: str) -> int | None:
    value = usage.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise StreamParseError(
            f"usage.{name} is {value!r}; expected a whole number of tokens >= 0",
            json.dumps(usage)[:120],
        )
    return value


def _role_only(choices: Any) -> bool:
    """A chat stream's opening chunk that names the assistant's role and carries no token."""
    first = choices[0] if isinstance(choices, list) and choices else {}
    delta = first.get("delta") if isinstance(first, dict) else None
    return isinstance(delta, dict) and "role" in delta and not delta.get("content")


def _apply_chunk(record: RequestRecord, data: str, now: float) -> None:
    """Apply one SSE ``data:`` payload to the record.

    :raises StreamParseError: on a payload that is not a completion chunk
    """
    try:
        obj = json.loads(data)
    except json.JSONDecodeError:
        raise StreamParseError(f"bad SSE data line: {data[:120]!r}", data[:120]) from None
    if not isinstance(obj, dict):
        raise StreamParseError(f"SSE data is not a JSON object: {data[:120]!r}", data[:120])
    if obj.get("error"):
        record.error = f"stream error: {str(obj['error'])[:200]}"
        return
    choices = obj.get("choices")
    if choices and not _role_only(choices):
        record.chunks += 1
        if record.t_first_s is None:
            record.t_first_s = now
        record.t_last_s = now
    usage = obj.get("usage")
    if usage:
        if not isinstance(usage, dict):
            raise StreamParseError(f"usage is not an object: {usage!r:.120}", data[:120])
        record.prompt_tokens = _token_count(usage, "prompt_tokens")
        record.completion_tokens = _token_count(usage, "completion_tokens")


@dataclass(frozen=True)
class Timeouts:
    """How long a request may take: connecting, and from sending to its last byte."""

    request_s: float = DEFAULT_REQUEST_TIMEOUT_S
    connect_s: float = DEFAULT_CONNECT_TIMEOUT_S


class EngineClient:
    """One engine's base URL; the API key (if any) comes from the environment.

    Use as ``async with EngineClient(url) as client``.
    """

    def __init__(self, base_url: str, *, timeouts: Timeouts | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeouts = timeouts or Timeouts()
        self._timeout = aiohttp.ClientTimeout(
            total=self.timeouts.request_s, sock_connect=self.timeouts.connect_s
        )
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
                return response.status, await response.text(errors="replace")
        except TimeoutError:
            raise BenchmarkError(
                f"{url}: no answer within {self.timeouts.request_s:g} s (--request-timeout)"
            ) from None
        except aiohttp.ClientError as exc:
            raise BenchmarkError(
                f"{self.base_url}: cannot reach the server ({type(exc).__name__})"
            ) from None

    async def _checked(self, method: str, path: str, body: Any = None) -> str:
        """The body of a 200 answer; any other status is a :class:`ServerHTTPError`."""
        status, text = await self._call(method, path, body)
        if status != 200:
            raise ServerHTTPError(f"{self.base_url}{path}", status, text)
        return text

    def _json(self, path: str, text: str) -> Any:
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise StreamParseError(
                f"{self.base_url}{path}: the answer is not JSON: {text[:120]!r}"
            ) from None

    async def get_text(self, path: str) -> str:
        return await self._checked("GET", path)

    async def get_json(self, path: str) -> Any:
        return self._json(path, await self._checked("GET", path))

    async def post_json(self, path: str, body: dict[str, Any]) -> Any:
        return self._json(path, await self._checked("POST", path, body))

    async def discover_model(self) -> str:
        """The first model id that ``GET /v1/models`` lists."""
        try:
            return str((await self.get_json("/v1/models"))["data"][0]["id"])
        except (ValueError, KeyError, IndexError, TypeError):
            raise BenchmarkError(f"{self.base_url}/v1/models: no model listed") from None

    async def stream_completion(
        self, body: dict[str, Any], record: RequestRecord, path: str = COMPLETIONS
    ) -> RequestRecord:
        """POST ``body`` to ``path`` (``/v1/completions`` or ``/v1/chat/completions``); fill
        ``record`` as lines arrive.

        Never raises for a failed request: what went wrong goes to ``record.error`` (and the
        status to ``record.http_status``), and what arrived before stays in the record.
        Cancellation stores ``"cancelled"`` and propagates.
        """
        record.t_send_s = perf_counter()
        done, kind = False, ""
        try:
            async with self.session.post(f"{self.base_url}{path}", json=body) as response:
                record.http_status = response.status
                if response.status != 200:
                    text = await response.text(errors="replace")
                    record.error = f"HTTP {response.status}: {one_line(text)}"
                    return record
                kind = response.content_type
                if kind in _NOT_STREAMS:
                    text = await response.text(errors="replace")
                    record.error = _not_a_stream(kind, text)
                    return record
                async for raw in response.content:
                    line = raw.decode("utf-8", "replace").strip()
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        done = True
                        break
                    _apply_chunk(record, data, perf_counter())
                    if record.error is not None:
                        break
            if record.error is None:
                record.error = _incomplete(record, done, kind)
        except asyncio.CancelledError:
            record.error = "cancelled"
            raise
        except TimeoutError:
            record.error = (
                f"timeout: no complete answer within {self.timeouts.request_s:g} s "
                f"(--request-timeout) after {record.chunks} chunks"
            )
        except aiohttp.ClientPayloadError as exc:
            record.error = (
                f"connection closed mid-stream after {record.chunks} chunks "
                f"({type(exc).__name__}: {str(exc)[:120]})"
            )
        except StreamParseError as exc:
            record.error = f"stream parse error: {exc}"
        except aiohttp.ClientError as exc:
            record.error = f"{type(exc).__name__}: {str(exc)[:200]}"
        finally:
            record.t_end_s = perf_counter()
        return record


def _not_a_stream(content_type: str, text: str) -> str:
    """Why a 200 answer without an event stream cannot be measured."""
    if content_type == "application/json":
        return (
            "the server answered with one JSON body, not a stream (does it honour "
            f'"stream": true?): {text[:120]!r}'
        )
    shown = content_type or "none"
    return f"HTTP 200 with Content-Type {shown!r}, not text/event-stream: {text[:120]!r}"


def _incomplete(record: RequestRecord, done: bool, content_type: str) -> str | None:
    """None for a whole stream, else what is missing from it."""
    if not done and record.chunks == 0 and record.completion_tokens is None:
        return (
            f"HTTP 200 ({content_type or 'no Content-Type'}) without one SSE data line: not an "
            "OpenAI-compatible stream, or the connection closed before the first token"
        )
    if not done:
        return (
            f"the server ended the stream after {record.chunks} chunks without [DONE] "
            "(connection closed early)"
        )
    if record.completion_tokens is None:
        return (
            "no usage block in the stream (the server ignored stream_options.include_usage; "
            "pdplan counts tokens from usage, never from chunks)"
        )
    return None
