"""The streaming client against httpx.MockTransport: parsing, errors, usage counts."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from pdplan.bench.client import completion_body, discover_model, stream_completion
from pdplan.bench.records import RequestRecord
from pdplan.errors import BenchmarkError


def sse(*objs: object) -> bytes:
    lines = [f"data: {json.dumps(o)}\n\n" for o in objs] + ["data: [DONE]\n\n"]
    return "".join(lines).encode()


def run(handler: httpx.MockTransport) -> RequestRecord:
    async def go() -> RequestRecord:
        async with httpx.AsyncClient(transport=handler) as client:
            record = RequestRecord(step="t", isl_tokens=3, max_tokens=5, t_send_s=0.0)
            body = completion_body("m", [1, 2, 3], 5)
            return await stream_completion(client, "http://x", body, record)

    return asyncio.run(go())


def test_tokens_come_from_usage_not_chunks() -> None:
    content = sse(
        {"choices": [{"text": "a"}]},
        {"choices": [{"text": "bc"}]},  # two tokens in one chunk
        {"choices": [{"text": "de"}]},
        {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 5}},
    )
    record = run(httpx.MockTransport(lambda r: httpx.Response(200, content=content)))
    assert record.ok and record.chunks == 3
    assert (record.prompt_tokens, record.completion_tokens) == (3, 5)
    assert record.t_first_s is not None and record.t_last_s is not None


def test_request_body_asks_for_usage_and_exact_length() -> None:
    body = completion_body("m", [1, 2], 7)
    assert body["stream_options"] == {"include_usage": True}
    assert (body["max_tokens"], body["ignore_eos"], body["stream"]) == (7, True, True)


def test_http_error_is_recorded_not_raised() -> None:
    record = run(httpx.MockTransport(lambda r: httpx.Response(503, text="overloaded")))
    assert not record.ok and record.error == "HTTP 503: overloaded"


def test_bad_sse_line_is_recorded() -> None:
    content = b"data: {not json\n\n"
    record = run(httpx.MockTransport(lambda r: httpx.Response(200, content=content)))
    assert record.error is not None and "bad SSE data line" in record.error


def test_missing_usage_is_an_error() -> None:
    content = sse({"choices": [{"text": "a"}]})
    record = run(httpx.MockTransport(lambda r: httpx.Response(200, content=content)))
    assert record.error is not None and "no usage block" in record.error


def test_connection_error_is_recorded() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    record = run(httpx.MockTransport(refuse))
    assert record.error == "ConnectError: refused"


def test_discover_model_errors() -> None:
    async def go(handler: httpx.MockTransport) -> str:
        async with httpx.AsyncClient(transport=handler) as client:
            return await discover_model(client, "http://x")

    ok = httpx.MockTransport(lambda r: httpx.Response(200, json={"data": [{"id": "llama"}]}))
    assert asyncio.run(go(ok)) == "llama"
    empty = httpx.MockTransport(lambda r: httpx.Response(200, json={"data": []}))
    with pytest.raises(BenchmarkError, match="no model listed"):
        asyncio.run(go(empty))
