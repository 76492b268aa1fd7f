"""Bounded concurrency inside a shard: a platform's per-account (or per-batch) work, at most N calls in flight.

A shard used to have one call in flight: with 150 ms of API latency a national night spent most of its time
waiting, and the pipeline and the sandbox never used both cores at once. :class:`Lanes` runs the same work on
up to ``client.concurrency`` threads and hands the results back **in the items' order**, so the source's loop
records outcomes, merges the ids it saw and lands the answers exactly as it did one at a time:

- each item's landing lines are held while it runs and written in item order by the caller's thread, so the
  landing file has the same lines in the same order at any concurrency (only ``received_at``/``elapsed_ms`` differ);
- a refused credential or a spent budget (:data:`STOPS`) raised by one item stops the others: a worker about
  to call again raises :class:`~etl.http.CallsStopped` instead, and items not yet started never start. The
  items that finished are handed back as usual, then the stopping item, whose :meth:`Done.result` raises, so
  the source's ``except (CredentialsRejected, BudgetExhausted)`` defers (or marks ``token_expired``) the
  accounts not done, exactly as when it stopped one at a time;
- at concurrency 1 the work runs in the caller's thread, item after item, with no buffering: as before.

What the threads share is made safe where it lives: the client (a session per thread, counters under a lock,
the last answer's headers per thread), the budget (every spend and check under one lock, so N threads never
take more than the allowance) and the landing (context and buffer per thread).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Generic, TypeVar

from etl.http import ApiClient, BudgetExhausted, CallsStopped, CredentialsRejected
from etl.landing import LandingWriter

T = TypeVar("T")
R = TypeVar("R")
#: What ends a shard's calls: the other workers stop before calling again.
STOPS = (CredentialsRejected, BudgetExhausted)


@dataclass(frozen=True)
class Done(Generic[R]):
    """How one item's work ended: its value, or the exception it raised (re-raised by :meth:`result`)."""

    value: R | None = None
    error: Exception | None = None

    def result(self) -> R:
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]


class Lanes:
    """Runs a source's work for each item with at most ``client.concurrency`` calls in flight (see the module doc)."""

    def __init__(self, client: ApiClient, landing: LandingWriter | None) -> None:
        self.client = client
        self.landing = landing

    @property
    def concurrency(self) -> int:
        return max(1, self.client.concurrency)

    def each(self, items: Sequence[T], work: Callable[[T], R]) -> Iterator[tuple[T, Done[R]]]:
        """``(item, Done)`` for each item, in the items' order; see the module doc for what a stop does."""
        if self.concurrency == 1 or len(items) <= 1:
            yield from self._one_at_a_time(items, work)
        else:
            yield from self._concurrently(items, work)

    @staticmethod
    def _one_at_a_time(items: Sequence[T], work: Callable[[T], R]) -> Iterator[tuple[T, Done[R]]]:
        for item in items:
            try:
                done: Done[R] = Done(work(item))
            except Exception as exc:  # noqa: BLE001 - handed to the caller, which re-raises it through result()
                done = Done(error=exc)
            yield item, done

    def _concurrently(self, items: Sequence[T], work: Callable[[T], R]) -> Iterator[tuple[T, Done[R]]]:
        stop = threading.Event()

        def run(item: T) -> tuple[Done[R], list[str]]:
            if stop.is_set():
                return Done(error=CallsStopped(f"source={self.client.source}: the shard stopped before this item")), []
            with self._held_lines() as lines:
                try:
                    return Done(work(item)), lines
                except Exception as exc:  # noqa: BLE001 - handed to the caller in item order
                    if isinstance(exc, STOPS):
                        stop.set()  # before anyone calls again
                    return Done(error=exc), lines
                finally:
                    self.client.release_probe()

        landed = 0
        futures: list[Future[tuple[Done[R], list[str]]]] = []
        with self.client.stopped_by(stop), ThreadPoolExecutor(self.concurrency, f"{self.client.source}-lane") as pool:
            try:
                futures = [pool.submit(run, item) for item in items]
                stopper: tuple[T, Done[R]] | None = None
                for item, future in zip(items, futures, strict=True):
                    done, lines = future.result()
                    self._land(lines)
                    landed += 1
                    if isinstance(done.error, CallsStopped):
                        continue  # cut short by another item's stop: not done, the caller defers it
                    if isinstance(done.error, STOPS):
                        stopper = stopper or (item, done)
                        continue
                    yield item, done
                if stopper is not None:
                    yield stopper
            finally:
                # The caller stopped iterating (a stop re-raised, or its own error): no new calls; land what was received.
                stop.set()
                for future in futures[landed:]:
                    future.cancel()
                for future in futures[landed:]:
                    if not future.cancelled():
                        self._land(future.result()[1])

    def _held_lines(self) -> AbstractContextManager[list[str]]:
        return self.landing.held() if self.landing is not None else nullcontext([])

    def _land(self, lines: list[str]) -> None:
        if self.landing is not None and lines:
            self.landing.write_lines(lines)
