"""Errors that retrying cannot fix: a task that raises one fails at once (no Airflow retry), naming what to fix."""

from __future__ import annotations


class DeterministicError(Exception):
    """The same input gives the same failure: bad data, bad configuration. The DAGs fail such a task without retries."""


class WarehouseError(DeterministicError):
    """The warehouse named by WAREHOUSE_URL cannot be used as it is (unknown scheme, unreachable)."""


class DataError(DeterministicError):
    """A row the warehouse or a file format refuses; the message names the frame and the row."""
