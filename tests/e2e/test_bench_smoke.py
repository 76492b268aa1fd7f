"""`make bench SCALE=small` end to end: one 60-account night through the DAGs on both engines (no timing asserted)."""

from __future__ import annotations

import gc
import os
import re

import pytest

from etl.bench import STAGES, main
from etl.gc_tuning import BATCH_THRESHOLDS

pytestmark = [pytest.mark.airflow, pytest.mark.postgres]


def test_small_bench_runs_the_night_on_both_engines_and_accounts_for_every_stage(
    postgres_server: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = postgres_server.replace("postgresql://", "postgresql+psycopg://", 1)
    monkeypatch.delenv("PANTAU_NO_AIRFLOW_CONNECTIONS", raising=False)  # the DAG reads the sandbox's connections
    saved = dict(os.environ)
    thresholds = gc.get_threshold()
    gc.set_threshold(700, 10, 10)  # CPython's defaults: an earlier test's DagRunner may have tuned this process already
    try:
        assert main(["--scale", "small", "--postgres", admin]) == 0
    finally:
        # The bench points the process at its sandbox, registry and warehouse: none of it may outlive the test.
        os.environ.clear()
        os.environ.update(saved)
        # Nor may its garbage collection settings (read first: the nights ran in this process).
        tuned = gc.get_threshold()
        gc.set_threshold(*thresholds)
    out = capsys.readouterr().out
    heads = re.findall(r"^(duckdb|postgresql): (\d+) accounts, ([\d,]+) post snapshots, ([\d,]+) articles, (\d+) rows quarantined; "
                       r"registry_sync success, social_metrics success, news_mentions success, agency_indicators success$", out, re.M)
    assert [h[0] for h in heads] == ["duckdb", "postgresql"]
    assert len(re.findall(r"^  this machine: 200,000 hash draws in Python take \d+\.\d\ds of CPU \(best of 3; ", out, re.M)) == 1
    # The same night on both engines: the same accounts, snapshots, articles and quarantine.
    assert heads[0][1:] == heads[1][1:]
    assert heads[0][1] == "60"
    assert int(heads[0][2].replace(",", "")) > 0
    for stage in {"Airflow overhead", *(name for _, _, name in STAGES)}:
        assert len(re.findall(rf"^  {re.escape(stage)} +\d+\.\ds +\d+%$", out, re.M)) == 2, stage
    assert len(re.findall(r"^    youtube +[\d,]+ calls, \d+ shards x \d+ in flight: \+ +\d+s", out, re.M)) == 2
    assert len(re.findall(r"^  garbage collection in this process: [\d,]+ collections, \d+\.\ds$", out, re.M)) == 2
    # The nights ran in this process, collecting garbage at the batch thresholds.
    assert tuned == BATCH_THRESHOLDS
