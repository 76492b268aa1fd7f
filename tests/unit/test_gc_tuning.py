"""The batch processes' garbage collection settings, and the clock the bench reads them with."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from etl.gc_tuning import BATCH_THRESHOLDS, CollectionClock, tune_for_batch_work


@pytest.fixture
def restored_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_batch_work_collects_less_often_and_freezes_what_is_alive(restored_gc: None) -> None:
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    survivor = [object() for _ in range(10)]
    tune_for_batch_work()
    assert gc.get_threshold() == (20_000, 50, 100) == BATCH_THRESHOLDS
    assert gc.get_freeze_count() >= len(survivor)
    # Frozen: no later collection walks it again.
    assert all(tracked is not survivor for tracked in gc.get_objects())


def test_the_clock_counts_only_the_collections_while_installed() -> None:
    gc.collect()
    with CollectionClock() as clock:
        gc.collect()
        gc.collect(0)
    gc.collect()
    assert clock.collections == 2
    assert clock.seconds > 0
    assert clock._observe not in gc.callbacks
