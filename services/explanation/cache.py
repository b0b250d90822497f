"""Text embeddings of dictionaries, banks and prompts, cached per (model fingerprint, content).

A ConVis dictionary is thousands of definitions; embedding it once per model and reusing the
result is what makes a map cost one image pass. Entries live in memory (LRU) and on disk
(`.npy` files written atomically), keyed by the model's weight fingerprint and the content hash
the lexicon gives each dictionary and bank, so a changed model or dictionary never reads a stale
entry. Concurrent requests for one missing key share a single computation.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from pathlib import Path

import numpy as np

from cliplens.explanation import metrics

log = logging.getLogger(__name__)


class EmbeddingCache:
    """Memory + disk cache of float32 matrices keyed by (kind, fingerprint, content hash)."""

    def __init__(self, directory: str | os.PathLike | None, entries: int = 32):
        self.dir = Path(directory) if directory else None
        self.entries = entries
        self._memory: OrderedDict[str, np.ndarray] = OrderedDict()
        self._pending: dict[str, asyncio.Future] = {}

    @staticmethod
    def key(kind: str, fingerprint: str, content: str) -> str:
        digest = hashlib.sha256(f"{fingerprint}\0{content}".encode()).hexdigest()[:32]
        return f"{kind}-{digest}"

    def _remember(self, key: str, value: np.ndarray) -> None:
        self._memory[key] = value
        self._memory.move_to_end(key)
        while len(self._memory) > self.entries:
            self._memory.popitem(last=False)

    def _read_disk(self, key: str) -> np.ndarray | None:
        if self.dir is None:
            return None
        path = self.dir / f"{key}.npy"
        try:
            return np.load(path, allow_pickle=False)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:  # a torn or foreign file: recompute it
            log.warning("ignoring unreadable cache file %s: %s", path, e)
            return None

    def _write_disk(self, key: str, value: np.ndarray) -> None:
        if self.dir is None:
            return
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            tmp = self.dir / f".{key}.{os.getpid()}.tmp.npy"
            np.save(tmp, value, allow_pickle=False)
            os.replace(tmp, self.dir / f"{key}.npy")
        except OSError as e:
            log.warning("cannot write cache entry %s: %s", key, e)

    async def get(self, kind: str, fingerprint: str, content: str,
                  compute: Callable[[], Awaitable[np.ndarray]]) -> np.ndarray:
        """The cached matrix, computing (once) and storing it when missing."""
        key = self.key(kind, fingerprint, content)
        if key in self._memory:
            metrics.CACHE_HITS.labels(kind).inc()
            self._memory.move_to_end(key)
            return self._memory[key]
        if key in self._pending:
            metrics.CACHE_HITS.labels(kind).inc()
            return await asyncio.shield(self._pending[key])
        future = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            value = await asyncio.to_thread(self._read_disk, key)
            if value is not None:
                metrics.CACHE_HITS.labels(kind).inc()
            else:
                metrics.CACHE_MISSES.labels(kind).inc()
                value = np.ascontiguousarray(await compute(), dtype=np.float32)
                await asyncio.to_thread(self._write_disk, key, value)
            self._remember(key, value)
            future.set_result(value)
            return value
        except BaseException as e:
            future.set_exception(e)
            future.exception()  # mark retrieved: waiters re-raise it themselves
            raise
        finally:
            del self._pending[key]
