"""scripts/bench_indicators.py at a small size (no timing asserted): the synthetic history has the national shape
(each post re-pulled on 30 nights, earlier nights' indicator rows present) and both engines compute the same day."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "scripts" / "bench_indicators.py"
SMALL = ["--history-days", "40", "--accounts", "160", "--snapshots", "3000", "--articles", "800"]


def bench(*extra: str) -> str:
    done = subprocess.run([sys.executable, str(SCRIPT), *SMALL, *extra], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_same_day_on_both_engines_from_a_kept_history(postgres_server: str, tmp_path: Path) -> None:
    duckdb = bench("--keep", str(tmp_path / "history.duckdb"))
    assert ("history: 40 nights (2026-10-12 .. 2026-11-20) in" in duckdb
            and "dim_post 6,900, fact_post_metrics_daily 120,000, fact_account_daily 6,400, etl_account_coverage 6,400, "
                "fact_news_article 32,000, fact_news_mention 38,400, fact_post_daily_increase 117,000, campaign_post 348, "
                "agency_campaign_daily 290, agency_daily_indicators 2,340" in duckdb)
    assert re.search(r"^  stored: \d+\.\d GiB$", duckdb, re.MULTILINE)
    models = re.findall(r"^    (\w+) +[\d.]+ +[\d.]+ +[\d.]+$", duckdb, re.MULTILINE)
    assert models == ["post_daily_increase", "agency_daily_indicators", "agency_daily_news", "agency_daily_activity",
                      "agency_daily_ranking", "agency_daily_amplification", "campaign_post", "agency_campaign_daily",
                      "agency_campaign_standings"]
    digest = re.search(r"digest (\w{16})", duckdb).group(1)
    again = bench("--keep", str(tmp_path / "history.duckdb"))  # the kept history, the day rolled back: same rows
    assert "reusing the history" in again and f"digest {digest}" in again
    postgres = bench("--url", postgres_server.replace("postgresql://", "postgresql+psycopg://", 1), "--tablespace", "pg_default")
    assert "postgresql: 160 accounts" in postgres and f"digest {digest}" in postgres
    assert re.search(r"^  stored: \d+\.\d GiB in tablespace pg_default$", postgres, re.MULTILINE)


def test_a_tablespace_is_refused_without_postgresql() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), *SMALL, "--tablespace", "pg_default"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == "bench_indicators.py: error: --tablespace is for a PostgreSQL --url"
