"""The news sketches' files: written beside the storage's landing and staging, pruned, and never fatal."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from etl.news import dedupe
from etl.news.dedupe import SKETCH_VERSION, Doc, SketchCache, cluster
from etl.news.pipeline import read_sketches, write_sketches
from etl.runtime import RunContext
from etl.settings import load_settings

DAY = date(2026, 11, 20)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    monkeypatch.setenv("PANTAU_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PANTAU_STORAGE_URL", raising=False)
    return load_settings()


def _computed() -> dedupe.Sketches:
    cache = SketchCache()
    cluster([Doc("a", None, "Banjir rob", "air naik di pesisir utara"), Doc("b", None, "Gempa", "guncangan terasa di kota")], cache=cache)
    return cache.computed


def test_a_night_writes_its_file_and_removes_those_no_later_night_reads(settings, tmp_path: Path) -> None:  # noqa: ANN001
    folder = tmp_path / "cache" / "news_sketches"
    folder.mkdir(parents=True)
    old, partial, kept = (folder / f"{DAY - timedelta(days=5)}.{SKETCH_VERSION}.parquet",
                          folder / f"{DAY - timedelta(days=5)}.{SKETCH_VERSION}.parquet.partial",
                          folder / f"{DAY - timedelta(days=4)}.{SKETCH_VERSION}.parquet")
    for path in (old, partial, kept):
        path.write_bytes(b"x")
    run = RunContext.for_day(DAY, run_id="r", dag_id="news_mentions")
    write_sketches(settings, run, _computed(), cluster_days=3)
    # The next night (DAY + 1) reads back to DAY - 3; DAY - 4 is still read by this night's rerun.
    assert sorted(p.name for p in folder.iterdir()) == sorted([kept.name, f"{DAY}.{SKETCH_VERSION}.parquet"])
    assert sorted(read_sketches(settings, run, cluster_days=3).earlier.article_id) == ["a", "b"]


def test_a_file_that_cannot_be_written_is_a_warning_not_a_failure(settings, tmp_path: Path) -> None:  # noqa: ANN001
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "news_sketches").write_text("a file where the folder should be", encoding="utf-8")
    run = RunContext.for_day(DAY, run_id="r", dag_id="news_mentions")
    with capture_logs() as logs:
        write_sketches(settings, run, _computed(), cluster_days=3)
    [warning] = [e for e in logs if e["event"].startswith("news sketches not written")]
    assert warning["log_level"] == "warning" and warning["file"].endswith(f"news_sketches/{DAY}.{SKETCH_VERSION}.parquet")
    assert warning["error"].startswith(("NotADirectoryError", "FileExistsError"))
