"""Raw landing: every response body exactly as received, before anything parses it.

One gzip JSON-lines file per task under
``<landing>/<source>/<data date>/<run id>/<part>.jsonl.gz``.  A line holds the
redacted request, the status, timing and the body text untouched, so a parser
bug can always be fixed and the day re-parsed without calling the API again.

A file is written as ``<part>.jsonl.gz.partial`` and renamed when closed. A task
killed half way leaves its ``.partial``: the next try of the same run writes the
same name again (the orphan is replaced), and a rerun under another run id removes
the same part's orphans of that day older than :data:`ORPHAN_AGE_SECONDS` (a
younger one may belong to a task still running).
"""

from __future__ import annotations

import gzip
import json
import re
import time
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from etl.http import CallRecord

_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")
#: A ``.partial`` landing file untouched this long belongs to a killed task (a live one writes every response).
ORPHAN_AGE_SECONDS = 6 * 3600


def safe_name(value: str) -> str:
    """A path component from a run id or shard name (Airflow run ids carry ':' and '+')."""
    return _UNSAFE.sub("_", value).strip("_") or "_"


def landing_path(landing_dir: Path, source: str, data_date: date, run_id: str, part: str) -> Path:
    return landing_dir / source / data_date.isoformat() / safe_name(run_id) / f"{safe_name(part)}.jsonl.gz"


class LandingWriter:
    """Appends call records to one gzip JSON-lines file; use as a context manager."""

    def __init__(self, path: Path, *, source: str) -> None:
        self.path = path
        self.source = source
        self.lines = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self.removed_orphans = remove_orphans(path)
        # Write to a temporary name: a half-written file from a crashed task is never mistaken for a landing.
        self._tmp = path.with_name(path.name + ".partial")
        self._fh = gzip.open(self._tmp, "wt", encoding="utf-8")
        self.context: dict[str, Any] = {}

    def write(self, record: CallRecord) -> None:
        line = {
            "source": self.source,
            "received_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
            **self.context,
            **asdict(record),
        }
        self._fh.write(json.dumps(line, ensure_ascii=False) + "\n")
        self.lines += 1

    def close(self) -> Path:
        self._fh.close()
        self._tmp.replace(self.path)
        return self.path

    def __enter__(self) -> LandingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        # Land what was received even when the extraction failed half way: it cost API calls.
        self.close()


def remove_orphans(path: Path, max_age: float = ORPHAN_AGE_SECONDS) -> list[Path]:
    """Delete the ``.partial`` files killed tasks left for this part and day under other run ids; returns them."""
    name = path.name + ".partial"
    cutoff = time.time() - max_age
    removed = []
    for orphan in path.parent.parent.glob(f"*/{name}"):
        if orphan.parent != path.parent and orphan.stat().st_mtime < cutoff:
            orphan.unlink(missing_ok=True)
            removed.append(orphan)
    return removed


def read_landing(path: Path) -> Iterator[dict[str, Any]]:
    """Yield the landed lines of ``path`` in the order they were received."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)
