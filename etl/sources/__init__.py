"""The shared SDK under the platforms; it imports no platform.

- :mod:`etl.http` — the one HTTP client (timeouts, retries, rate-limit headers, redaction);
- :mod:`etl.sources.base` — endpoint declarations, paginators, batching, the rate budget, a shard's outcomes;
- :mod:`etl.sources.concurrency` — a shard's per-account work with at most N calls in flight, results in account order;
- :mod:`etl.sources.readers` — value readers (``to_count``, ``to_utc``, ...);
- :mod:`etl.sources.frames` — the canonical frames every parser fills;
- :mod:`etl.budget` — the night's allowance shared live by a platform's shards.

The platforms built on it are listed in :mod:`etl.platforms`.
"""
