"""A broken or hostile server: every way a stream can go wrong gets a record that says what
happened, keeps exactly what arrived before, and never crashes the run."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from tests.fakes.openai_server import FakeEngine, FakeServer

from pdplan.bench.client import EngineClient, Timeouts, completion_body
from pdplan.bench.records import RequestRecord, step_records
from pdplan.bench.session import Session
from pdplan.errors import ServerHTTPError


async def _one(url: str, timeouts: Timeouts | None = None) -> RequestRecord:
    record = RequestRecord(step="s", isl_tokens=8, max_tokens=8, t_send_s=0.0)
    async with EngineClient(url, timeouts=timeouts) as client:
        await client.stream_completion(completion_body("m", [101] * 8, 8), record)
    return record


@pytest.mark.parametrize(
    ("fault", "needle", "chunks"),
    [
        ("close_mid_stream", "after 2 chunks", 2),
        ("garbage", "stream parse error: bad SSE data line", 2),
        ("usage_types", "usage.prompt_tokens is 'many'", 5),
        ("html", "Content-Type 'text/html', not text/event-stream", 0),
        ("json", "one JSON body, not a stream", 0),
        ("5xx_burst", "HTTP 503", 0),
    ],
)
def test_each_fault_is_named_and_what_arrived_is_kept(fault: str, needle: str, chunks: int) -> None:
    with FakeServer(FakeEngine(fault=fault, tokens_per_chunk=2)) as server:
        record = asyncio.run(_one(server.url))
    assert not record.ok
    assert record.error is not None and needle in record.error, record.error
    assert "no usage block" not in record.error
    assert record.chunks == chunks  # exactly the choice chunks that came
    assert (record.t_first_s is not None) == (chunks > 0)
    assert record.t_end_s is not None and record.t_end_s >= record.t_send_s
    if fault == "5xx_burst":
        assert record.http_status == 503


def test_a_stalled_server_times_out_and_keeps_the_partial_record() -> None:
    with FakeServer(FakeEngine(fault="stall")) as server:
        record = asyncio.run(_one(server.url, Timeouts(request_s=1.0, connect_s=1.0)))
    assert record.error is not None and record.error.startswith("timeout: no complete answer")
    assert record.chunks == 2 and record.t_first_s is not None
    assert 0.9 < record.t_end_s - record.t_send_s < 5  # type: ignore[operator]


def test_a_5xx_burst_fails_those_requests_and_the_rest_succeed(tmp_path: Path) -> None:
    async def go(url: str) -> list[RequestRecord]:
        async with Session(url, tmp_path, max_failure_share=1.0, prompt_mode="ids") as s:
            records = await s.closed_loop("burst", 16, 4, concurrency=1, total=8)
            s.save_step("burst", {"n": len(records)})
            return records

    with FakeServer(FakeEngine(fault="5xx_burst", burst=3)) as server:
        records = asyncio.run(go(server.url))
    assert [r.http_status for r in records] == [503] * 3 + [200] * 5
    assert [r.ok for r in records] == [False] * 3 + [True] * 5
    on_disk = step_records(tmp_path, "burst")
    assert [r["http_status"] for r in on_disk] == [503] * 3 + [200] * 5


def test_http_errors_are_typed_with_url_and_status() -> None:
    async def go(url: str) -> None:
        async with EngineClient(url) as client:
            await client.get_text("/nope")

    with FakeServer(FakeEngine()) as server, pytest.raises(ServerHTTPError) as info:
        asyncio.run(go(server.url))
    assert info.value.status == 404 and info.value.url.endswith("/nope")


def test_an_interrupted_step_is_counted_once_after_resume(tmp_path: Path) -> None:
    """A run cut off in the middle of a step leaves its partial records on disk; the resumed
    run measures the step again, and only its records are the step's."""

    async def partial(url: str) -> None:
        async with Session(url, tmp_path, prompt_mode="ids") as s:
            task = asyncio.ensure_future(s.closed_loop("step", 16, 4, concurrency=2, total=50))
            await asyncio.sleep(0.2)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    async def whole(url: str) -> str:
        async with Session(url, tmp_path, prompt_mode="ids") as s:
            records = await s.closed_loop("step", 16, 4, concurrency=2, total=10)
            s.save_step("step", {"requests": len(records)})
            return s.run_id

    with FakeServer(FakeEngine(tpot_base_s=0.01)) as server:
        asyncio.run(partial(server.url))
        run_id = asyncio.run(whole(server.url))
    from pdplan.bench.records import read_jsonl

    everything = [r for r in read_jsonl(tmp_path / "records.jsonl") if r["step"] == "step"]
    counted = step_records(tmp_path, "step")
    assert len(everything) > len(counted) >= 10  # the partial attempt is on disk too
    assert {r["run_id"] for r in counted} == {run_id}
    assert any(r["error"] == "cancelled" for r in everything if r["run_id"] != run_id)
