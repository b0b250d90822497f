"""Dynamic batching across concurrent requests, as Triton's dynamic batcher does.

One `Batcher` per (model, operation). Requests enqueue items of one or more rows; a worker
forms a batch of up to `max_batch_size` rows (an item is never split; an item larger than the
limit runs alone), waiting at most `max_delay` after the oldest item arrived for more company,
then runs the compute function in the compute thread so the event loop keeps accepting calls.
The queue is bounded: beyond `max_queue` waiting items a request fails at once with
RESOURCE_EXHAUSTED. Items whose deadline has passed, or whose caller has gone, are dropped
before compute.

The worker is a task that lives only while there is work, so an idle batcher holds nothing
that needs stopping.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from cliplens.core.errors import DeadlineExceeded, Overloaded
from cliplens.embedding import metrics

log = logging.getLogger(__name__)
ComputeFn = Callable[[Sequence[Any]], Sequence[Any]]


@dataclasses.dataclass(eq=False)
class _Item:
    payload: Any
    rows: int
    # time.monotonic() after which the result is of no use (None: no deadline).
    deadline: float | None
    future: asyncio.Future
    enqueued: float


class Batcher:
    """Coalesces items submitted concurrently into batches for `compute`.

    `compute(payloads)` returns one result per payload, in order; it runs on `executor`.
    `depth` is called with the change in queued items (for a per-model depth gauge).
    `fingerprint` (of the model's weights) labels the metrics beside the model's name.
    """

    def __init__(self, compute: ComputeFn, *, model: str, op: str, max_batch_size: int,
                 max_delay: float, max_queue: int,
                 executor: concurrent.futures.Executor | None = None,
                 depth: Callable[[int], None] | None = None, fingerprint: str = ""):
        self.compute = compute
        self.model, self.op = model, op
        self.labels = (model, fingerprint)
        self.max_batch_size = max_batch_size
        self.max_delay = max_delay
        self.max_queue = max_queue
        self.executor = executor
        self._depth = depth or (lambda change: None)
        self._items: collections.deque[_Item] = collections.deque()
        self._wake = asyncio.Event()
        self._worker: asyncio.Task | None = None
        # Batches run so far (tests and benchmarks read it).
        self.batches = 0

    @property
    def waiting(self) -> int:
        return len(self._items)

    async def submit(self, payload: Any, *, rows: int = 1, timeout: float | None = None) -> Any:
        """Queue `payload` (`rows` rows) and return its result once its batch has run.

        `timeout` is the caller's remaining time in seconds (None: no deadline).
        """
        if len(self._items) >= self.max_queue:
            metrics.REJECTED.labels("queue_full").inc()
            raise Overloaded(f"embedding queue full ({len(self._items)} waiting for "
                             f"{self.model} {self.op}); retry later")
        loop = asyncio.get_running_loop()
        now = time.monotonic()
        item = _Item(payload, max(1, rows), None if timeout is None else now + timeout,
                     loop.create_future(), now)
        self._items.append(item)
        self._depth(+1)
        self._wake.set()
        if self._worker is None or self._worker.done():
            self._worker = loop.create_task(self._run(), name=f"batcher {self.model} {self.op}")
        # Cancelling the caller cancels the future too, which marks the item for dropping.
        return await item.future

    async def _run(self) -> None:
        while self._items:
            await self._gather()
            batch = self._take()
            live = self._drop_dead(batch)
            if live:
                await self._execute(live)

    async def _gather(self) -> None:
        """Wait until the queue holds a full batch or the oldest item has waited max_delay."""
        while sum(i.rows for i in self._items) < self.max_batch_size:
            remaining = self._items[0].enqueued + self.max_delay - time.monotonic()
            if remaining <= 0:
                return
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), remaining)
            except TimeoutError:
                return

    def _take(self) -> list[_Item]:
        batch: list[_Item] = []
        rows = 0
        while self._items and (not batch or rows + self._items[0].rows <= self.max_batch_size):
            item = self._items.popleft()
            batch.append(item)
            rows += item.rows
        self._depth(-len(batch))
        return batch

    def _drop_dead(self, batch: list[_Item]) -> list[_Item]:
        now = time.monotonic()
        live = []
        for item in batch:
            if item.future.done():  # cancelled by its caller (deadline or disconnect)
                metrics.REJECTED.labels("deadline").inc()
            elif item.deadline is not None and now >= item.deadline:
                metrics.REJECTED.labels("deadline").inc()
                item.future.set_exception(DeadlineExceeded(
                    f"deadline passed after {now - item.enqueued:.3f} s in the {self.op} "
                    f"queue of {self.model}, before compute"))
            else:
                live.append(item)
        return live

    async def _execute(self, batch: list[_Item]) -> None:
        started = time.monotonic()
        for item in batch:
            metrics.QUEUE_SECONDS.labels(*self.labels).observe(started - item.enqueued)
        metrics.BATCH_SIZE.labels(*self.labels).observe(sum(i.rows for i in batch))
        self.batches += 1
        loop = asyncio.get_running_loop()
        try:
            results = await loop.run_in_executor(
                self.executor, self.compute, [i.payload for i in batch])
        except asyncio.CancelledError:
            for item in batch:
                if not item.future.done():
                    item.future.cancel()
            raise
        except Exception as e:  # noqa: BLE001 - handed to every caller of the batch
            for item in batch:
                if not item.future.done():
                    item.future.set_exception(e)
            return
        finally:
            metrics.INFERENCE_SECONDS.labels(*self.labels, self.op).observe(
                time.monotonic() - started)
        for item, result in zip(batch, results, strict=True):
            if not item.future.done():
                item.future.set_result(result)
