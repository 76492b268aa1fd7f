"""The real DAGs, run by Airflow (dag.test) against the sandbox over loopback HTTP, for three nights.

Expected values come from the sandbox's own universe (the rules it serves),
computed here independently of the pipeline's SQL.
"""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from etl.demo import DATA_TABLES, fingerprint
from etl.harness import DagRunner, point_sources_at, prepare_airflow_db, sandbox
from etl.runtime import JAKARTA, RunContext
from etl.sandbox.server import SandboxServer
from etl.settings import PROJECT_ROOT
from etl.warehouse import Warehouse

pytestmark = pytest.mark.airflow
DAYS = [date(2026, 11, 10), date(2026, 11, 11), date(2026, 11, 12)]
AGENCIES = {"KEM-KOMDIGI", "KAB-73.24", "PROV-21"}
GHOST = "youtube:KOTA-73.71:0"  # registered, but the platform does not know its channel
REPULL_DAYS = 30


def write_accounts(tmp_path: Path) -> tuple[Path, Path]:
    with (PROJECT_ROOT / "registry" / "sandbox" / "accounts.csv").open(encoding="utf-8") as fh:
        # YouTube only: the oracle below reads the YouTube universe (other platforms have their own fault tests).
        rows = [r for r in csv.DictReader(fh) if r["agency_code"] in AGENCIES and r["platform"] == "youtube"]
    fields = list(rows[0])
    served = tmp_path / "sandbox_accounts.csv"
    registered = tmp_path / "accounts.csv"
    for path, extra in ((served, []), (registered, [{**rows[0], "account_key": GHOST, "agency_code": "KOTA-73.71", "layer": "0",
                                                      "platform_account_id": "UCghostghostghostghost00", "handle": "@sandbox-ghost"}])):
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows + extra)
    return served, registered


class Oracle:
    """What the pipeline should have collected, straight from the sandbox's universe."""

    def __init__(self, served: Path) -> None:
        self.universe = SandboxServer(served).universe
        with served.open(encoding="utf-8") as fh:
            self.accounts = {r["account_key"]: r for r in csv.DictReader(fh)}

    def as_of(self, day: date) -> datetime:
        return RunContext.for_day(day, run_id="-", dag_id="-").as_of

    def videos(self, channel: str, day: date) -> dict[str, dict]:
        now = self.as_of(day)
        cutoff = now - timedelta(days=REPULL_DAYS)
        found = {}
        for vid in self.universe.uploads(channel, now):
            video = self.universe.video(vid, now)
            published = datetime.fromisoformat(video["snippet"]["publishedAt"].replace("Z", "+00:00"))
            if published >= cutoff:
                found[vid] = video
        return found

    def all_videos(self, day: date) -> dict[str, dict]:
        return {v: d for a in self.accounts.values() for v, d in self.videos(a["platform_account_id"], day).items()}

    def followers(self, channel: str, day: date) -> int:
        return int(self.universe.channel(channel, self.as_of(day))["statistics"]["subscriberCount"])

    def official(self, agency: str) -> str:
        return next(a["platform_account_id"] for a in self.accounts.values() if a["agency_code"] == agency and a["layer"] == "0")

    def engagement(self, agency: str, day: date) -> tuple[int, int]:
        channel = self.official(agency)
        today, yesterday = self.videos(channel, day), self.videos(channel, day - timedelta(days=1))
        engagement = views = 0
        for vid, video in today.items():
            cur = video["statistics"]
            published_on = datetime.fromisoformat(video["snippet"]["publishedAt"].replace("Z", "+00:00")).astimezone(JAKARTA).date()
            if vid in yesterday:
                prev = yesterday[vid]["statistics"]
                for counter in ("likeCount", "commentCount"):
                    if counter in cur and counter in prev:
                        engagement += int(cur[counter]) - int(prev[counter])
                views += int(cur["viewCount"]) - int(prev["viewCount"])
            elif published_on == day:
                engagement += sum(int(cur[c]) for c in ("likeCount", "commentCount") if c in cur)
                views += int(cur["viewCount"])
        return engagement, views

    def posts_published(self, agency: str, day: date) -> int:
        videos = self.videos(self.official(agency), day)
        return sum(
            1 for v in videos.values()
            if datetime.fromisoformat(v["snippet"]["publishedAt"].replace("Z", "+00:00")).astimezone(JAKARTA).date() == day
        )


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    return request.getfixturevalue("pg_url")


def test_three_nights_of_dags_against_the_sandbox(tmp_path: Path, warehouse_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    served, registered = write_accounts(tmp_path)
    monkeypatch.delenv("PANTAU_NO_AIRFLOW_CONNECTIONS", raising=False)  # credentials come from the Airflow connection
    monkeypatch.setenv("PANTAU_ACCOUNTS_FILE", str(registered))
    monkeypatch.setenv("PANTAU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WAREHOUSE_URL", warehouse_url)
    monkeypatch.setenv("PANTAU_REPULL_DAYS", str(REPULL_DAYS))
    prepare_airflow_db()
    oracle = Oracle(served)
    warehouse = Warehouse(warehouse_url)
    with sandbox(served) as api:
        point_sources_at(api)
        runner = DagRunner()
        for day in DAYS:
            assert runner.night(day, api) == {
                "registry_sync": "success", "social_metrics": "success", "news_mentions": "success", "agency_indicators": "success",
            }
        first = fingerprint(warehouse, DATA_TABLES)
        for day in DAYS:  # the same nights again: nothing changes
            runner.night(day, api)
        assert fingerprint(warehouse, DATA_TABLES) == first

    collected = [k for k in oracle.accounts]
    seen = [set(oracle.all_videos(day)) for day in DAYS]
    counts = warehouse.table_counts(["dim_account", "fact_account_daily", "fact_post_metrics_daily", "dim_post", "etl_account_coverage"])
    assert counts == {
        "dim_account": len(collected) + 1,
        "fact_account_daily": len(collected) * len(DAYS),
        "fact_post_metrics_daily": sum(len(s) for s in seen),
        "dim_post": len(set().union(*seen)),
        "etl_account_coverage": (len(collected) + 1) * len(DAYS),
    }
    ghost = warehouse.query("SELECT status, message FROM etl_account_coverage WHERE account_key = :k AND snapshot_date = :d",
                            {"k": GHOST, "d": DAYS[-1]})
    assert [tuple(r) for r in ghost] == [("not_found", "source=youtube channel UCghostghostghostghost00 not returned by channels.list")]

    day = DAYS[-1]
    for agency in ("KEM-KOMDIGI", "KAB-73.24"):
        channel = oracle.official(agency)
        row = warehouse.query(
            "SELECT posts_published, followers, follower_growth, engagement, views, coverage FROM agency_daily_indicators "
            "WHERE agency_code = :a AND indicator_date = :d AND platform = 'all'", {"a": agency, "d": day}
        )[0]
        engagement, views = oracle.engagement(agency, day)
        assert tuple(row) == (
            oracle.posts_published(agency, day),
            oracle.followers(channel, day),
            oracle.followers(channel, day) - oracle.followers(channel, day - timedelta(days=1)),
            engagement,
            views,
            1.0,
        ), agency
    ghost_agency = warehouse.query(
        "SELECT accounts_registered, accounts_collected, coverage FROM agency_daily_indicators "
        "WHERE agency_code = 'KOTA-73.71' AND indicator_date = :d AND platform = 'all'", {"d": day})
    assert [tuple(r) for r in ghost_agency] == [(1, 0, 0.0)]
    runs = warehouse.query("SELECT status, COUNT(*) FROM etl_run WHERE task_id = 'collect_youtube.load' AND source = 'youtube' GROUP BY status")
    assert dict((r[0], r[1]) for r in runs) == {"partial": 2 * len(DAYS)}  # the ghost makes every shard partial
    warehouse.dispose()
