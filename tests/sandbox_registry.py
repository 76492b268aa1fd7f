"""A running in-process sandbox for a handful of accounts, for tests that talk to one emulated API."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from etl.sandbox.server import SandboxServer

#: The registry columns the sandbox reads.
ACCOUNT_COLUMNS = ["account_key", "agency_code", "platform", "handle", "platform_account_id", "layer"]


def account(platform: str, agency: str, platform_account_id: str, handle: str = "@agency_a") -> list[str]:
    """One official (layer 0) registry row."""
    return [f"{platform}:{agency}:0", agency, platform, handle, platform_account_id, "0"]


@contextmanager
def sandbox_with(tmp_path: Path, rows: Iterable[list[str]], now: datetime) -> Iterator[SandboxServer]:
    """Write ``rows`` as the sandbox's accounts file, start the sandbox with its clock at ``now``."""
    path = tmp_path / "accounts.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(ACCOUNT_COLUMNS)
        writer.writerows(rows)
    with SandboxServer(path) as server:
        server.set_clock(now)
        yield server
