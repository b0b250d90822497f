"""The dynamic batcher: coalescing, limits, queue bound, deadlines, cancellation, errors."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from prometheus_client import REGISTRY

from cliplens.core.errors import DeadlineExceeded, Overloaded
from cliplens.embedding.batcher import Batcher


def _rejected(reason: str) -> float:
    return REGISTRY.get_sample_value("cliplens_embedding_rejected_total",
                                     {"reason": reason}) or 0.0


class Recorder:
    """A compute function that records its batches (payloads are lists of rows)."""

    def __init__(self, delay: float = 0.0, fail: bool = False):
        self.batches: list[list] = []
        self.delay = delay
        self.fail = fail
        self.started = threading.Event()

    def __call__(self, payloads):
        self.started.set()
        self.batches.append(list(payloads))
        if self.delay:
            time.sleep(self.delay)
        if self.fail:
            raise ValueError("boom")
        return [[x * 10 for x in p] for p in payloads]


def _batcher(compute, **kw) -> Batcher:
    opts = dict(model="m", op="image", max_batch_size=8, max_delay=0.05, max_queue=16)
    opts.update(kw)
    return Batcher(compute, **opts)


def test_concurrent_requests_share_one_batch_and_get_their_own_rows():
    rec = Recorder()

    async def main():
        b = _batcher(rec)
        return await asyncio.gather(b.submit([1], rows=1), b.submit([2, 3], rows=2),
                                    b.submit([4], rows=1)), b.batches

    results, batches = asyncio.run(main())
    assert results == [[10], [20, 30], [40]]
    assert batches == 1
    assert rec.batches == [[[1], [2, 3], [4]]]


def test_batches_never_exceed_max_rows_and_items_are_not_split():
    rec = Recorder()

    async def main():
        b = _batcher(rec, max_batch_size=3)
        return await asyncio.gather(*(b.submit([i, i], rows=2) for i in range(4)))

    results = asyncio.run(main())
    assert results == [[0, 0], [10, 10], [20, 20], [30, 30]]
    assert [len(batch) for batch in rec.batches] == [1, 1, 1, 1]


def test_an_item_larger_than_the_batch_runs_alone():
    rec = Recorder()

    async def main():
        b = _batcher(rec, max_batch_size=2)
        return await asyncio.gather(b.submit(list(range(5)), rows=5), b.submit([7], rows=1))

    big, small = asyncio.run(main())
    assert big == [0, 10, 20, 30, 40] and small == [70]
    assert rec.batches == [[list(range(5))], [[7]]]


def test_full_batch_does_not_wait_for_the_delay():
    rec = Recorder()

    async def main():
        b = _batcher(rec, max_batch_size=2, max_delay=5.0)
        started = time.monotonic()
        await asyncio.gather(b.submit([1]), b.submit([2]))
        return time.monotonic() - started

    assert asyncio.run(main()) < 2.0


def test_lone_item_waits_at_most_the_delay():
    rec = Recorder()

    async def main():
        b = _batcher(rec, max_batch_size=64, max_delay=0.05)
        started = time.monotonic()
        await b.submit([1])
        return time.monotonic() - started

    elapsed = asyncio.run(main())
    assert 0.04 <= elapsed < 2.0


def test_queue_full_is_overloaded_and_counted():
    rec = Recorder()
    before = _rejected("queue_full")

    async def main():
        b = _batcher(rec, max_queue=2, max_delay=0.2, max_batch_size=64)
        tasks = [asyncio.ensure_future(b.submit([i])) for i in range(2)]
        await asyncio.sleep(0)  # both queued, the worker waits for more
        with pytest.raises(Overloaded, match="queue full"):
            await b.submit([99])
        return await asyncio.gather(*tasks)

    assert asyncio.run(main()) == [[0], [10]]
    assert _rejected("queue_full") == before + 1


def test_expired_items_are_dropped_before_compute():
    rec = Recorder()
    before = _rejected("deadline")

    async def main():
        b = _batcher(rec, max_batch_size=64, max_delay=0.1)
        late = asyncio.ensure_future(b.submit([1], timeout=0.01))
        fine = asyncio.ensure_future(b.submit([2], timeout=10.0))
        with pytest.raises(DeadlineExceeded, match="before compute"):
            await late
        return await fine

    assert asyncio.run(main()) == [20]
    assert rec.batches == [[[2]]]
    assert _rejected("deadline") == before + 1


def test_cancelled_callers_are_dropped_before_compute():
    rec = Recorder()
    before = _rejected("deadline")

    async def main():
        b = _batcher(rec, max_batch_size=64, max_delay=0.1)
        gone = asyncio.ensure_future(b.submit([1]))
        kept = asyncio.ensure_future(b.submit([2]))
        await asyncio.sleep(0.01)
        gone.cancel()
        return await kept

    assert asyncio.run(main()) == [20]
    assert rec.batches == [[[2]]]
    assert _rejected("deadline") == before + 1


def test_compute_errors_reach_every_caller_and_the_batcher_keeps_working():
    failing = Recorder(fail=True)

    async def main():
        b = _batcher(failing)
        results = await asyncio.gather(b.submit([1]), b.submit([2]), return_exceptions=True)
        failing.fail = False
        return results, await b.submit([3])

    results, after = asyncio.run(main())
    assert all(isinstance(r, ValueError) for r in results)
    assert after == [30]


def test_event_loop_stays_responsive_while_compute_runs():
    slow = Recorder(delay=0.3)

    async def main():
        b = _batcher(slow, max_delay=0.0)
        job = asyncio.ensure_future(b.submit([1]))
        ticks = 0
        while not job.done():
            await asyncio.sleep(0.01)
            ticks += 1
        return ticks, job.result()

    ticks, result = asyncio.run(main())
    assert result == [10]
    assert ticks >= 10  # the loop ran while the compute thread slept
