"""Classifying concurrent requests together.

Requests that arrive while the model is busy wait in a queue; one background thread takes all
of them at once and classifies them as a batch. Under load this amortises the per-call cost
and stops dozens of request threads from contending for the interpreter; when idle a request
is classified at once (no waiting for a batch to fill).
"""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from triage.classify.engine import Message, Result

from .state import EngineHolder

MAX_BATCH = 16


class Batcher:
    def __init__(self, engines: EngineHolder) -> None:
        self.engines = engines
        self._queue: asyncio.Queue | None = None
        self._worker: asyncio.Task | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="classify")

    async def classify(self, message: Message) -> Result:
        if self._queue is None:
            self._queue = asyncio.Queue()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._work())
        future = asyncio.get_running_loop().create_future()
        await self._queue.put((message, future))
        return await future

    def _run(self, messages: list[Message]) -> list[Result]:
        return list(self.engines.get().classify_many(messages))

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                results = await loop.run_in_executor(self._executor, self._run, [m for m, _ in batch])
            except Exception as exc:  # every waiting request gets the error, none hangs
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results):
                if not future.done():
                    future.set_result(result)

    def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)
