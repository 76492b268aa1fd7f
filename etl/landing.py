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
import io
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from upath import UPath

from etl.http import CallRecord
from etl.jsontext import loads, record_json
from etl.storage import is_local

_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")
#: A ``.partial`` landing file untouched this long belongs to a killed task (a live one writes every response).
ORPHAN_AGE_SECONDS = 6 * 3600


def safe_name(value: str) -> str:
    """A path component from a run id or shard name (Airflow run ids carry ':' and '+')."""
    return _UNSAFE.sub("_", value).strip("_") or "_"


def landing_path(landing_dir: Path | UPath, source: str, data_date: date, run_id: str, part: str) -> Path | UPath:
    return landing_dir / source / data_date.isoformat() / safe_name(run_id) / f"{safe_name(part)}.jsonl.gz"


#: Bytes handed to the compressor at once (see LandingWriter).
COMPRESS_CHUNK_BYTES = 1 << 20


class LandingWriter:
    """Appends call records to one gzip JSON-lines file (a local path or an object-store path); a context manager."""

    def __init__(self, path: Path | UPath, *, source: str) -> None:
        self.path = path
        self.source = source
        self.lines = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        # Locally, write to a temporary name: a half-written file from a crashed task is never mistaken for a
        # landing (and those that killed tasks left are removed). An object store needs none: an object appears
        # only once its upload completes.
        self.removed_orphans = remove_orphans(path) if is_local(path) else []
        self._tmp = path.with_name(path.name + ".partial") if is_local(path) else path
        self._raw = self._tmp.open("wb")
        # Level 3, not gzip's default 9: a sixth of the CPU for files ~20% larger (a national night's landing
        # spent more time compressing than parsing at 9; issue 11).
        compressed = gzip.GzipFile(fileobj=self._raw, mode="wb", compresslevel=3)
        # Compressed a megabyte at a time, not in the text layer's 8 KB pieces: each piece released and re-took the
        # GIL twice (deflate, CRC), and with a source's workers running the writing thread waited for it each time
        # (~13,000 pieces in a demo YouTube night; issue 11).
        self._fh = io.TextIOWrapper(io.BufferedWriter(compressed, buffer_size=COMPRESS_CHUNK_BYTES), encoding="utf-8")
        # A source's workers (etl.sources.concurrency) each set their own context and hold their own lines.
        self._local = threading.local()
        self._writing = threading.Lock()

    @property
    def context(self) -> dict[str, Any]:
        """What the source says about the call under way in this thread (endpoint, account, ids...), landed with its answer."""
        return getattr(self._local, "context", {})

    @context.setter
    def context(self, value: dict[str, Any]) -> None:
        self._local.context = value

    def write(self, record: CallRecord) -> None:
        line = {
            "source": self.source,
            "received_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
            **self.context,
            **asdict(record),
        }
        text = record_json(line) + "\n"  # msgspec: ~7x json.dumps on a line that carries a whole answer
        held = getattr(self._local, "held", None)
        if held is not None:
            held.append(text)
        else:
            self.write_lines([text])

    @contextmanager
    def held(self) -> Iterator[list[str]]:
        """Hold this thread's lines in the list yielded instead of writing them: the caller lands them in its order."""
        self._local.held = lines = []
        try:
            yield lines
        finally:
            self._local.held = None

    def write_lines(self, lines: list[str]) -> None:
        with self._writing:
            for text in lines:
                self._fh.write(text)
            self.lines += len(lines)

    def close(self) -> Path | UPath:
        self._fh.close()
        self._raw.close()
        if self._tmp != self.path:
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


def read_landing(path: Path | UPath) -> Iterator[dict[str, Any]]:
    """Yield the landed lines of ``path`` (local or on the object store) in the order they were received."""
    with path.open("rb") as raw, gzip.open(raw, "rb") as fh:
        for line in fh:
            if line.strip():
                yield loads(line)
