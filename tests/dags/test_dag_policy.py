"""Policy over every DAG: imports cleanly, owned, tagged, retried, time-limited, alerting, documented, pools that
the deployment creates, no work at parse time."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from etl.deployment import airflow_setup
from etl.operations import DAGRUN_TIMEOUTS, EXTRACT_TIMEOUT, TASK_TIMEOUT, on_task_failure
from etl.platforms import platform_pools
from etl.settings import PROJECT_ROOT

DAGS = PROJECT_ROOT / "dags"
EXPECTED_DAGS = {"registry_sync", "social_metrics", "agency_indicators", "news_mentions", "warehouse_freshness"}


@pytest.fixture(scope="module")
def setup_report(tmp_path_factory):
    """What ``pantau airflow-setup`` creates in this session's metadata database (storage probed in a temp dir)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PANTAU_STORAGE_URL", str(tmp_path_factory.mktemp("storage")))
        return airflow_setup(require=())


@pytest.fixture(scope="module")
def dagbag(setup_report):
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.pool import Pool

    return DagBag(dag_folder=str(DAGS), safe_mode=False, known_pools={p.pool for p in Pool.get_pools()})


def test_dagbag_imports_without_errors(dagbag) -> None:
    assert dagbag.import_errors == {}
    assert set(dagbag.dags) == EXPECTED_DAGS


#: Tasks a retry cannot help: publish only counts the shards that failed, and fails the run if any did.
#: warehouse_freshness.check: a later try would only hide how late the night's data is.
NOT_RETRIED = {"social_metrics.publish", "warehouse_freshness.check"}


def test_every_dag_has_owner_tags_and_retries(dagbag) -> None:
    for dag_id, dag in dagbag.dags.items():
        assert dag.default_args.get("owner") == "pantau-data-eng", dag_id
        assert dag.default_args.get("retries", 0) >= 1, dag_id
        assert "pantau" in dag.tags, dag_id
        assert dag.doc_md, dag_id
        for task in dag.tasks:
            if f"{dag_id}.{task.task_id}" in NOT_RETRIED:
                assert task.retries == 0, f"{dag_id}.{task.task_id}"
            else:
                assert task.retries >= 1, f"{dag_id}.{task.task_id}"


def test_every_pool_a_dag_uses_is_created_by_airflow_setup(dagbag, setup_report) -> None:
    from airflow.models.pool import Pool

    used = {task.pool for dag in dagbag.dags.values() for task in dag.tasks} - {Pool.DEFAULT_POOL_NAME}
    assert used == set(platform_pools()) == {"youtube_api", "x_api", "instagram_api", "facebook_api", "tiktok_api"}
    assert setup_report.pools == platform_pools()
    created = {p.pool: p.slots for p in Pool.get_pools()}
    assert {pool: created[pool] for pool in used} == {"youtube_api": 4, "x_api": 2, "instagram_api": 2, "facebook_api": 2, "tiktok_api": 2}


def test_every_task_and_every_run_is_time_limited(dagbag) -> None:
    assert {dag_id: dag.dagrun_timeout for dag_id, dag in dagbag.dags.items()} == DAGRUN_TIMEOUTS
    for dag_id, dag in dagbag.dags.items():
        for task in dag.tasks:
            expected = EXTRACT_TIMEOUT if task.task_id.endswith(".extract") else TASK_TIMEOUT
            assert task.execution_timeout == expected, f"{dag_id}.{task.task_id}"
    # A run must end before the next one is due: news_mentions runs every 6 hours, the others daily.
    assert DAGRUN_TIMEOUTS["news_mentions"].total_seconds() < 6 * 3600
    assert max(DAGRUN_TIMEOUTS.values()).total_seconds() < 24 * 3600


def test_every_task_alerts_on_failure(dagbag) -> None:
    for dag_id, dag in dagbag.dags.items():
        for task in dag.tasks:
            callbacks = task.on_failure_callback if isinstance(task.on_failure_callback, list) else [task.on_failure_callback]
            assert on_task_failure in callbacks, f"{dag_id}.{task.task_id}"


#: The tasks an operator opens when a night goes wrong: each says what it does and what clearing it repeats.
DOCUMENTED_TASKS = {
    "registry_sync": {"sync"},
    "social_metrics": {f"collect_{p}.{step}" for p in ("youtube", "x", "instagram", "facebook", "tiktok")
                       for step in ("extract", "parse_validate", "load")},
    "news_mentions": {"extract", "load"},
    "agency_indicators": {"compute"},
    "warehouse_freshness": {"check"},
}


def test_tasks_an_operator_looks_at_are_documented(dagbag) -> None:
    documented = {dag_id: {t.task_id for t in dag.tasks if t.doc_md} for dag_id, dag in dagbag.dags.items()}
    for dag_id, tasks in DOCUMENTED_TASKS.items():
        assert tasks <= documented[dag_id], (dag_id, tasks - documented[dag_id])


def test_extract_tasks_use_the_platform_pool(dagbag) -> None:
    assert not dagbag.dag_warnings, [w.message for w in dagbag.dag_warnings]
    extract = dagbag.dags["social_metrics"].get_task("collect_youtube.extract")
    assert extract.pool == "youtube_api" and "youtube_api" in platform_pools()


PARSE_PROBE = r"""
import json, runpy, socket, sys
def refuse(*a, **k):
    raise RuntimeError("network access at DAG parse time")
socket.socket.connect = refuse
socket.create_connection = refuse
import airflow.sdk
before = set(sys.modules)
sys.path.insert(0, sys.argv[1])
for path in sys.argv[2:]:
    runpy.run_path(path)
heavy = sorted(m for m in set(sys.modules) - before
               if m.split(".")[0] in {"pandas", "great_expectations", "duckdb", "psycopg", "requests", "pyarrow"}
               or m in {"etl.pipeline", "etl.warehouse", "etl.quality"})
print(json.dumps(heavy))
"""


def test_dag_files_do_no_work_at_parse_time() -> None:
    files = sorted(str(p) for p in DAGS.glob("*.py"))
    result = subprocess.run(
        [sys.executable, "-c", PARSE_PROBE, str(DAGS), *files],
        capture_output=True, text=True, cwd=PROJECT_ROOT, env={**os.environ}, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
