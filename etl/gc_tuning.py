"""Garbage collection for Pantau's batch processes (the demo's and bench's ``dag.test`` process, the sandbox).

A night decodes thousands of API answers and landing lines into short-lived dicts and lists. At CPython's default
threshold (a young-generation collection every 700 net allocations) a 1,560-account night ran ~2,700 collections
that took 2.0 s of its ~34 s of CPU; at 20,000 it runs ~65 that take 0.5 s (``python -m etl.bench`` prints the
night's collections and their time).
The objects alive when the process has started (imported modules, parsed DAGs) are frozen out of every later
collection: they live as long as the process and would only be walked again and again.
"""

from __future__ import annotations

import gc
import time

#: (young, middle, old) collection thresholds; CPython's defaults are (700, 10, 10).
BATCH_THRESHOLDS = (20_000, 50, 100)


def tune_for_batch_work() -> None:
    """Collect less often, and never walk again what is alive now. Call once, after the process's imports."""
    gc.freeze()
    gc.set_threshold(*BATCH_THRESHOLDS)


class CollectionClock:
    """Counts the collections in this process while it is installed, and the seconds they took."""

    def __init__(self) -> None:
        self.collections = 0
        self.seconds = 0.0
        self._started: float | None = None

    def __enter__(self) -> CollectionClock:
        gc.callbacks.append(self._observe)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._observe)

    def _observe(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif self._started is not None:
            self.seconds += time.perf_counter() - self._started
            self.collections += 1
            self._started = None
