"""The streaming client against the local fake engine: parsing, errors, usage counts."""

from __future__ import annotations

import asyncio

import pytest
from tests.fakes.openai_server import FakeEngine, FakeServer

from pdplan.bench.client import EngineClient, completion_body
from pdplan.bench.records import RequestRecord
from pdplan.errors import BenchmarkError


def run(engine: FakeEngine, max_tokens: int = 5) -> RequestRecord:
    async def go(url: str) -> RequestRecord:
        async with EngineClient(url) as client:
            record = RequestRecord(step="t", isl_tokens=3, max_tokens=max_tokens, t_send_s=0.0)
            return await client.stream_completion(
                completion_body("m", [1, 2, 3], max_tokens), record
            )

    with FakeServer(engine) as server:
        return asyncio.run(go(server.url))


def test_tokens_come_from_usage_not_chunks() -> None:
    record = run(FakeEngine(tokens_per_chunk=3), max_tokens=7)  # chunks carry 1, 3, 3 tokens
    assert record.ok and record.chunks == 3
    assert (record.prompt_tokens, record.completion_tokens) == (3, 7)
    assert record.t_first_s is not None and record.t_last_s is not None
    assert record.tpot_s is not None and record.tpot_s > 0


def test_request_body_asks_for_usage_and_exact_length() -> None:
    body = completion_body("m", [1, 2], 7)
    assert body["stream_options"] == {"include_usage": True}
    assert (body["max_tokens"], body["ignore_eos"], body["stream"]) == (7, True, True)


def test_http_error_is_recorded_not_raised() -> None:
    record = run(FakeEngine(status_override=503))
    assert not record.ok and record.error == "HTTP 503: overloaded"


def test_bad_sse_line_is_recorded() -> None:
    record = run(FakeEngine(garbage_line=True))
    assert record.error is not None and "bad SSE data line" in record.error


def test_missing_usage_is_an_error() -> None:
    record = run(FakeEngine(send_usage=False))
    assert record.error is not None and "no usage block" in record.error


def test_connection_error_is_recorded() -> None:
    async def go() -> RequestRecord:
        async with EngineClient("http://127.0.0.1:9") as client:
            record = RequestRecord(step="t", isl_tokens=1, max_tokens=1, t_send_s=0.0)
            return await client.stream_completion(completion_body("m", [1], 1), record)

    record = asyncio.run(go())
    assert record.error is not None and record.error.startswith("ClientConnectorError")


def test_discover_model_and_unreachable_server() -> None:
    async def go(url: str) -> str:
        async with EngineClient(url) as client:
            return await client.discover_model()

    with FakeServer(FakeEngine()) as server:
        assert asyncio.run(go(server.url)) == "fake-model"
    with pytest.raises(BenchmarkError, match="cannot reach the server"):
        asyncio.run(go("http://127.0.0.1:9"))
