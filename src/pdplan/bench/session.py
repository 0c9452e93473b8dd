"""A profiling session against one endpoint: client, prompts, files, resume, progress.

Layout of the output directory::

    records.jsonl   every request, written when it ends (raw samples)
    steps.jsonl     one summary per finished step; a re-run skips the steps found here
    parts/*.json    the measured parts (prefill, decode, overhead) as they complete
    profile.yaml    the assembled profile, once prefill and decode parts exist
"""

from __future__ import annotations

import asyncio
import random
import secrets
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, Protocol

from pdplan.bench.client import EngineClient, Timeouts
from pdplan.bench.prompts import PromptMode, PromptSource
from pdplan.bench.records import JsonlWriter, RequestRecord, read_jsonl
from pdplan.bench.runner import run_closed_loop, run_open_loop
from pdplan.bench.sending import new_record, send_request
from pdplan.bench.workers import Pool, SenderSpec
from pdplan.errors import BenchmarkError

__all__ = ["NullReporter", "Reporter", "Session"]


class Reporter(Protocol):
    """Receives progress: the CLI draws bars with it; tests use :class:`NullReporter`."""

    def step_started(self, name: str, total: int) -> None: ...
    def request_done(self, record: RequestRecord) -> None: ...
    def step_done(self, name: str, summary: dict[str, Any]) -> None: ...
    def note(self, message: str) -> None: ...


class NullReporter:
    def step_started(self, name: str, total: int) -> None:
        pass

    def request_done(self, record: RequestRecord) -> None:
        pass

    def step_done(self, name: str, summary: dict[str, Any]) -> None:
        pass

    def note(self, message: str) -> None:
        pass


class Session:
    """Measures one OpenAI-compatible base URL, writing everything under ``out_dir``."""

    def __init__(
        self,
        base_url: str,
        out_dir: Path,
        *,
        model: str | None = None,
        prompt_mode: PromptMode | None = None,
        seed: int = 42,
        reporter: Reporter | None = None,
        max_failure_share: float = 0.1,
        timeouts: Timeouts | None = None,
        pool: Pool | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeouts = timeouts or Timeouts()
        # every record and step of this run carries its id: a step interrupted by an earlier
        # run and measured again here is counted once (bench.records.step_records)
        self.run_id = secrets.token_hex(6)
        self.out_dir = out_dir
        self.model = model
        self.reporter: Reporter = reporter or NullReporter()
        self.max_failure_share = max_failure_share
        # open-loop steps go through these workers (processes or Ray actors) when given
        self.pool = pool
        # Prompts must never repeat, across steps, sessions and runs: a repeated prefix is
        # served from the engine's prefix cache and inflates the measured prefill speed. So
        # prompt content is drawn from fresh entropy; ``seed`` drives arrival schedules only.
        self.prompts = PromptSource(prompt_mode or "text", random.Random(secrets.randbits(64)))
        # without an explicit prompt mode, one probe request chooses it (and checks the server)
        self._probe_mode = self._auto_mode = prompt_mode is None
        self._client: EngineClient | None = None
        self._records: JsonlWriter | None = None
        self._steps: JsonlWriter | None = None
        self._done: dict[str, dict[str, Any]] = {}
        self._stack = AsyncExitStack()
        self._made_dir = False

    async def __aenter__(self) -> Session:
        self._made_dir = not self.out_dir.exists()
        self.out_dir.mkdir(parents=True, exist_ok=True)
        try:
            return await self._open()
        except BaseException:
            self._tidy()
            raise

    async def _open(self) -> Session:
        self._done = {row["step"]: row for row in read_jsonl(self.out_dir / "steps.jsonl")}
        async with AsyncExitStack() as stack:
            self._client = await stack.enter_async_context(
                EngineClient(self.base_url, timeouts=self.timeouts)
            )
            if self.model is None:
                self.model = await self._client.discover_model()
            self._records = stack.enter_context(JsonlWriter(self.out_dir / "records.jsonl"))
            self._steps = stack.enter_context(JsonlWriter(self.out_dir / "steps.jsonl"))
            self._stack = stack.pop_all()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()
        self._tidy()

    def _tidy(self) -> None:
        """A run that measured nothing leaves nothing: the empty files it opened go, and the
        output directory too when this run made it (a failed first probe, a dead server)."""
        if not self._made_dir or not self.out_dir.is_dir():
            return
        children = list(self.out_dir.iterdir())
        if all(c.is_file() and c.stat().st_size == 0 for c in children):
            for child in children:
                child.unlink()
            self.out_dir.rmdir()

    @property
    def client(self) -> EngineClient:
        if self._client is None:
            raise RuntimeError("Session used outside 'async with'")
        return self._client

    def finished(self, step: str) -> dict[str, Any] | None:
        """The summary of a step finished by an earlier run (resume), or None."""
        return self._done.get(step)

    def save_step(self, step: str, summary: dict[str, Any]) -> dict[str, Any]:
        """Append the step's summary to ``steps.jsonl`` (with this run's id); the row."""
        row = {"step": step, "base_url": self.base_url, "run_id": self.run_id, **summary}
        assert self._steps is not None
        self._steps.write(row)
        self._done[step] = row
        self.reporter.step_done(step, row)
        return row

    async def _probe(self, isl: int) -> None:
        """One request before the first step: the server answers, and the prompts can be
        made. Without an explicit mode, text prompts where the engine sizes them
        (``/tokenize``), else token ids (with a note)."""
        self._probe_mode = False
        if self._auto_mode:
            try:
                await self.prompts.prepare([isl], self.client, str(self.model))
            except BenchmarkError as exc:
                self.prompts.mode = "ids"
                self.reporter.note(f"text prompts cannot be sized here ({exc}); token ids used")
        record = RequestRecord(
            step="probe", isl_tokens=isl, max_tokens=1, t_send_s=0.0, run_id=self.run_id
        )
        await self._send(record, await self.prompts.make(isl, self.client, str(self.model)))
        self.write_record(record)
        if not record.ok:
            raise BenchmarkError(f"{self.base_url}: probe request failed: {record.error}")

    async def _send(self, record: RequestRecord, prompt: Any) -> None:
        await send_request(self.client, str(self.model), self.prompts.mode, record, prompt)

    async def prepare(self, isls: list[int]) -> None:
        """Make these prompts now, before a step starts timing."""
        if self._probe_mode and isls:
            await self._probe(isls[0])
        await self.prompts.prepare(isls, self.client, str(self.model))

    async def request(self, step: str, isl: int, max_tokens: int, **extra: Any) -> RequestRecord:
        """One request; its record is written even when it fails or is cancelled."""
        if self._probe_mode:
            await self._probe(isl)
        record = new_record(step, isl, max_tokens, self.run_id, extra)
        try:
            prompt = await self.prompts.make(isl, self.client, str(self.model))
            await self._send(record, prompt)
        finally:
            self.write_record(record)
        return record

    def write_record(self, record: RequestRecord) -> None:
        """Append one record to ``records.jsonl`` (the session is its only writer)."""
        assert self._records is not None
        self._records.write(record.to_row())

    def _sender(self, step: str, isl: int, max_tokens: int) -> Any:
        async def send(index: int) -> RequestRecord:
            return await self.request(step, isl, max_tokens, index=index)

        return send

    def check_failures(self, step: str, records: list[RequestRecord]) -> None:
        failed = [r for r in records if not r.ok]
        if records and len(failed) > self.max_failure_share * len(records):
            raise BenchmarkError(
                f"step {step}: {len(failed)} of {len(records)} requests failed "
                f"(first error: {failed[0].error}); the records so far are in {self.out_dir}"
            )

    async def closed_loop(
        self,
        step: str,
        isl: int,
        max_tokens: int,
        concurrency: int,
        total: int,
        stagger_s: float = 0.0,
        min_duration_s: float = 0.0,
    ) -> list[RequestRecord]:
        await self.prepare([isl] * total)
        self.reporter.step_started(step, total)
        records = await run_closed_loop(
            self._sender(step, isl, max_tokens),
            concurrency,
            total,
            self.reporter.request_done,
            stagger_s,
            min_duration_s,
        )
        self.check_failures(step, records)
        return records

    async def open_loop(
        self,
        step: str,
        isl: int,
        max_tokens: int,
        times_s: list[float],
        lengths: list[tuple[int, int]] | None = None,
    ) -> list[RequestRecord]:
        """Requests at ``times_s``; ``lengths[i]`` = (ISL, OSL) of request i if given. With
        a pool, its workers send them (each makes its own prompts) and this session writes
        their records as they arrive."""
        if self.pool is not None:
            return await self._open_loop_pool(step, isl, max_tokens, times_s, lengths)
        await self.prepare([isl] * len(times_s) if lengths is None else [i for i, _ in lengths])
        self.reporter.step_started(step, len(times_s))
        send = self._sender(step, isl, max_tokens)
        if lengths is not None:

            async def send(index: int) -> RequestRecord:
                request_isl, request_osl = lengths[index]
                return await self.request(step, request_isl, request_osl, index=index)

        records = await run_open_loop(send, times_s, self.reporter.request_done)
        self.check_failures(step, records)
        return records

    async def _open_loop_pool(
        self,
        step: str,
        isl: int,
        max_tokens: int,
        times_s: list[float],
        lengths: list[tuple[int, int]] | None,
    ) -> list[RequestRecord]:
        assert self.pool is not None
        shapes = lengths if lengths is not None else [(isl, max_tokens)] * len(times_s)
        if self._probe_mode and shapes:
            await self._probe(shapes[0][0])  # the server answers; the prompt mode is chosen
        spec = SenderSpec(
            self.base_url, str(self.model), self.prompts.mode, self.run_id, self.timeouts
        )
        self.reporter.step_started(step, len(times_s))

        def on_record(record: RequestRecord) -> None:
            self.write_record(record)
            self.reporter.request_done(record)

        records = await self.pool.run(spec, step, times_s, shapes, on_record)
        self.check_failures(step, records)
        return records

    async def sequential(
        self, step: str, isl: int, max_tokens: int, count: int, gap_s: float = 0.05
    ) -> list[RequestRecord]:
        """``count`` requests one after another with a short idle gap: zero-load latency."""
        await self.prepare([isl] * count)
        self.reporter.step_started(step, count)
        records = []
        for index in range(count):
            record = await self.request(step, isl, max_tokens, index=index)
            records.append(record)
            self.reporter.request_done(record)
            await asyncio.sleep(gap_s)
        self.check_failures(step, records)
        return records
