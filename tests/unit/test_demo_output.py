"""`make demo` starts with Pantau's own line: known third-party warnings are filtered before Airflow is imported."""

from __future__ import annotations

import os
import subprocess
import sys

from etl.demo import KNOWN_THIRD_PARTY_WARNINGS

IMPORT = "import fastapi.testclient"  # what Airflow's in-process API imports; it warns about its own dependency


def python(code: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}  # as a new user's shell has it
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True, env=env)


def test_the_warning_is_there_without_the_filter() -> None:
    assert KNOWN_THIRD_PARTY_WARNINGS[0] in python(IMPORT).stderr


def test_known_warnings_are_silenced() -> None:
    result = python(f"from etl.demo import quiet_known_warnings; quiet_known_warnings(); {IMPORT}; print('Pantau demo')")
    assert (result.stdout, result.stderr) == ("Pantau demo\n", "")


def test_a_command_ends_with_its_exit_code_and_everything_it_printed() -> None:
    # make demo and make bench end through exit_quietly (no interpreter teardown: DuckDB's bindings would print a
    # page of benign "leaked instance" lines); what they printed, buffered or not, must still come out.
    script = "import sys; print('rows loaded'); print('a warning', file=sys.stderr); from etl.harness import exit_quietly; exit_quietly(3)"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (3, "rows loaded\n", "a warning\n")


def test_the_demo_runs_each_platform_of_the_sandbox_registry_as_one_shard() -> None:
    import csv
    from collections import Counter

    from etl.demo import DEMO_SHARD_SIZE, use_demo_shards
    from etl.settings import PROJECT_ROOT

    with (PROJECT_ROOT / "registry" / "sandbox" / "accounts.csv").open(encoding="utf-8") as fh:
        per_platform = Counter(row["platform"] for row in csv.DictReader(fh))
    assert per_platform["youtube"] == 1032 and max(per_platform.values()) <= DEMO_SHARD_SIZE
    environ: dict[str, str] = {}
    use_demo_shards(environ)
    assert environ == {"PANTAU_SHARD_SIZE": "2000"}
    environ = {"PANTAU_SHARD_SIZE": "100"}  # the user's setting wins
    use_demo_shards(environ)
    assert environ == {"PANTAU_SHARD_SIZE": "100"}


def test_the_demo_measures_only_days_whose_nightly_run_time_has_passed() -> None:
    from datetime import UTC, date, datetime

    from etl.harness import latest_measured_day

    # 8 December, 00:30 in Jakarta (17:30 UTC the day before): 7 December's run time, 01:00, is still ahead.
    assert latest_measured_day(datetime(2026, 12, 7, 17, 30, tzinfo=UTC)) == date(2026, 12, 6)
    assert latest_measured_day(datetime(2026, 12, 7, 17, 59, 30, tzinfo=UTC)) == date(2026, 12, 6)  # less than a minute past
    assert latest_measured_day(datetime(2026, 12, 7, 18, 1, tzinfo=UTC)) == date(2026, 12, 7)
    assert latest_measured_day(datetime(2026, 12, 7, 16, 59, tzinfo=UTC)) == date(2026, 12, 6)  # 23:59 on the 7th in Jakarta
