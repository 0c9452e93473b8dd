"""A small streaming OpenAI-compatible server for fast tests (not a proof of anything real).

It behaves like a one-instance engine: prefills are served one at a time (FCFS) at
``prefill_tps`` tokens/s, then each request decodes ``max_tokens`` tokens with a step time of
``tpot_base_s + tpot_per_request_s * active_decodes``. It sends ``tokens_per_chunk`` tokens per
SSE chunk (so clients that count chunks get it wrong) and a final usage block.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class FakeEngine:
    prefill_tps: float = 200_000.0
    tpot_base_s: float = 0.002
    tpot_per_request_s: float = 0.0002
    tokens_per_chunk: int = 2
    reject_token_ids: bool = False
    fail_after: int | None = None  # answer HTTP 500 after this many completions
    required_key: str | None = None
    status_override: int | None = None  # answer every completion with this HTTP status
    garbage_line: bool = False  # send one undecodable SSE data line first
    send_usage: bool = True
    # one way a hostile or broken server answers a completion (None: a good stream):
    # "close_mid_stream" (drop the connection after `fault_after_chunks` chunks), "garbage"
    # (an undecodable data line after them), "usage_types" (usage.prompt_tokens "many"),
    # "stall" (stop sending after them, never finish), "html" (200 text/html), "json" (one
    # non-streaming JSON body), "5xx_burst" (HTTP 503 for the first `burst` completions)
    fault: str | None = None
    fault_after_chunks: int = 2
    burst: int = 3
    chunks_sent: list[int] = field(default_factory=list)
    prompt_tokens_total: int = 0
    generation_tokens_total: int = 0
    completions: int = 0
    chats: int = 0
    no_tokenize: bool = False  # an engine without /tokenize (404)
    seen_auth: list[str] = field(default_factory=list)
    # each finished stream as the engine sent it: (first token, last token, tokens) in
    # time.perf_counter() seconds, the clock the client's records use (same process)
    streams: list[tuple[float, float, int]] = field(default_factory=list)
    _active: int = 0
    _prefill_lock: asyncio.Lock | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = (await reader.readline()).decode()
            if not request_line:
                return
            method, path, _ = request_line.split(" ", 2)
            headers = {}
            while line := (await reader.readline()).decode().strip():
                key, value = line.split(":", 1)
                headers[key.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", 0)))
            self.seen_auth.append(headers.get("authorization", ""))
            await self._route(method, path, json.loads(body) if body else {}, headers, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # client gone, or server shutting down
        finally:
            writer.close()

    async def _send(self, writer: asyncio.StreamWriter, status: int, payload: Any) -> None:
        data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
        head = f"HTTP/1.1 {status} X\r\nContent-Length: {len(data)}\r\nConnection: close\r\n\r\n"
        writer.write(head.encode() + data)
        await writer.drain()

    async def _route(
        self,
        method: str,
        path: str,
        body: dict[str, Any],
        headers: dict[str, str],
        writer: asyncio.StreamWriter,
    ) -> None:
        if self.required_key and headers.get("authorization") != f"Bearer {self.required_key}":
            await self._send(writer, 401, {"error": "unauthorized"})
        elif path == "/health":
            await self._send(writer, 200, "")
        elif path == "/v1/models":
            await self._send(writer, 200, {"data": [{"id": "fake-model"}]})
        elif path == "/version":
            await self._send(writer, 200, {"version": "fake-1.0"})
        elif path == "/tokenize" and not self.no_tokenize:
            if "messages" in body:  # a chat template of two tokens around the content
                text = " ".join(str(m["content"]) for m in body["messages"])
                await self._send(writer, 200, {"count": len(text.split()) + 2})
            else:
                await self._send(writer, 200, {"count": len(str(body["prompt"]).split())})
        elif path == "/metrics":
            text = (
                f"prompt_tokens_total {self.prompt_tokens_total}\n"
                f"generation_tokens_total {self.generation_tokens_total}\n"
            )
            await self._send(writer, 200, text)
        elif path == "/v1/completions":
            await self._complete(body, writer)
        elif path == "/v1/chat/completions":
            text = " ".join(str(m["content"]) for m in body["messages"])
            self.chats += 1
            await self._complete({**body, "prompt": (text + " a b").strip()}, writer)
        else:
            await self._send(writer, 404, {"error": path})

    async def _complete(self, body: dict[str, Any], writer: asyncio.StreamWriter) -> None:
        prompt = body["prompt"]
        if isinstance(prompt, list) and self.reject_token_ids:
            await self._send(writer, 400, {"error": "prompt must be a string"})
            return
        if self.status_override is not None:
            await self._send(writer, self.status_override, "overloaded")
            return
        if self.fail_after is not None and self.completions >= self.fail_after:
            await self._send(writer, 500, {"error": "engine died"})
            return
        self.completions += 1
        if self.fault == "5xx_burst" and self.completions <= self.burst:
            await self._send(writer, 503, {"error": "overloaded, try later"})
            return
        if self.fault == "html_502":  # a proxy's error page, over many lines
            page = (
                "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
                "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
                "</body>\r\n</html>\r\n" + "<!-- padding -->\r\n" * 6
            )
            await self._send(writer, 502, page)
            return
        if self.fault == "html":
            head = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n"
            writer.write((head + "<html><body>Bad gateway</body></html>").encode())
            await writer.drain()
            return
        if self.fault == "json":
            text = {"choices": [{"text": "xyz"}], "usage": {"prompt_tokens": 3}}
            head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            data = json.dumps(text)
            writer.write(f"{head}Content-Length: {len(data)}\r\n\r\n{data}".encode())
            await writer.drain()
            return
        isl = len(prompt) if isinstance(prompt, list) else len(prompt.split())
        max_tokens = int(body["max_tokens"])
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
        )
        if self.garbage_line:
            writer.write(b"data: {not json\n\n")
        if self._prefill_lock is None:
            self._prefill_lock = asyncio.Lock()
        async with self._prefill_lock:
            await asyncio.sleep(isl / self.prefill_tps)
        self.prompt_tokens_total += isl
        self._active += 1
        chunks = 0
        t_first = t_last = 0.0
        try:
            sent = 0
            while sent < max_tokens:
                midway = self.fault in ("close_mid_stream", "garbage", "stall")
                if midway and chunks == self.fault_after_chunks:
                    self.chunks_sent.append(chunks)
                    await self._break(writer)
                    return
                n = 1 if sent == 0 else min(self.tokens_per_chunk, max_tokens - sent)
                if sent > 0:
                    await asyncio.sleep(
                        n * (self.tpot_base_s + self.tpot_per_request_s * self._active)
                    )
                chunk = {"choices": [{"index": 0, "text": "x" * n}]}
                writer.write(f"data: {json.dumps(chunk)}\n\n".encode())
                await writer.drain()
                t_last = time.perf_counter()
                t_first = t_first or t_last
                sent += n
                chunks += 1
        finally:
            self._active -= 1
        self.generation_tokens_total += max_tokens
        self.chunks_sent.append(chunks)
        self.streams.append((t_first, t_last, max_tokens))
        if self.send_usage and body.get("stream_options", {}).get("include_usage"):
            usage: dict[str, Any] = {"prompt_tokens": isl, "completion_tokens": max_tokens}
            if self.fault == "usage_types":
                usage["prompt_tokens"] = "many"
            writer.write(f"data: {json.dumps({'choices': [], 'usage': usage})}\n\n".encode())
        writer.write(b"data: [DONE]\n\n")
        await writer.drain()

    async def _break(self, writer: asyncio.StreamWriter) -> None:
        """The fault, once ``fault_after_chunks`` chunks went out."""
        if self.fault == "garbage":
            writer.write(b"data: {not json at all\n\n")
            await writer.drain()
            await asyncio.sleep(0.05)
        elif self.fault == "stall":
            await asyncio.sleep(3600)
        writer.transport.abort()  # close_mid_stream (and after garbage): drop the connection


class FakeServer:
    """Runs a :class:`FakeEngine` on 127.0.0.1 in a background thread."""

    def __init__(self, engine: FakeEngine) -> None:
        self.engine = engine
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.url = ""

    def __enter__(self) -> FakeServer:
        self.thread.start()
        future = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self.engine.handle, "127.0.0.1", 0), self.loop
        )
        self.server = future.result(timeout=5)
        port = self.server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def _shutdown(self) -> None:
        self.server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop).result(timeout=5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()


def _main() -> None:
    """``python -m tests.fakes.openai_server PORT``: serve until killed (for benchmarks)."""
    import sys

    engine = FakeEngine(prefill_tps=1e9, tpot_base_s=0.001, tpot_per_request_s=0.0)

    async def serve() -> None:
        server = await asyncio.start_server(engine.handle, "127.0.0.1", int(sys.argv[1]))
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


if __name__ == "__main__":
    _main()
