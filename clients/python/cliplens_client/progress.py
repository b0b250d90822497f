"""A small progress bar on stderr for long lists (no dependency)."""

from __future__ import annotations

import sys
import time


class ProgressBar:
    """`advance(n)` as items finish; silent when disabled or stderr is not a terminal."""

    def __init__(self, total: int, label: str = "", *, enabled: bool = True, width: int = 30):
        self.total, self.label, self.width = total, label, width
        self.done = 0
        self.enabled = enabled and sys.stderr.isatty()
        self.start = time.monotonic()

    def advance(self, n: int = 1) -> None:
        self.done += n
        if not self.enabled:
            return
        frac = self.done / self.total if self.total else 1.0
        filled = int(frac * self.width)
        rate = self.done / max(time.monotonic() - self.start, 1e-9)
        sys.stderr.write(f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] "
                         f"{self.done}/{self.total} {rate:.1f}/s")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
