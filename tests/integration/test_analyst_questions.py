"""The README's five worked questions (sql/analyst/*.sql), run on the hand-made scenario on DuckDB and PostgreSQL.

The files name demo agencies and the demo campaign; here those literals are swapped for the scenario's
(PROV-31 -> PROV-C, SANDBOX-BERAKSI -> CAMP, KEM-KOMDIGI -> KEM-A). Expected values are computed by hand from
tests/scenario.py (see tests/integration/test_indicator_scenario.py for the daily indicators they come from).
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from etl import cli
from etl.settings import PROJECT_ROOT
from etl.warehouse import Warehouse
from tests.scenario import D1, D2, D3, build_scenario

ANALYST = PROJECT_ROOT / "sql" / "analyst"
SCENARIO_LITERALS = {"'PROV-31'": "'PROV-C'", "'SANDBOX-BERAKSI'": "'CAMP'", "'KEM-KOMDIGI'": "'KEM-A'"}


@pytest.fixture
def scenario(warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch) -> Warehouse:
    monkeypatch.setenv("WAREHOUSE_URL", warehouse.url)
    build_scenario(warehouse)
    seen = datetime(2026, 9, 7, 6, 0)
    articles = [  # n2 is a syndicated copy of n1
        ("n1", "https://kabar.test/a", "kabar", "Kementerian A dikritik soal layanan lambat", None, None),
        ("n2", "https://warta.test/a", "warta", "Kementerian A dikritik soal layanan lambat", "n1", 0.9),
        ("n3", "https://kabar.test/b", "kabar", "Kemen A luncurkan aplikasi baru", None, None),
    ]
    with warehouse.transaction() as conn:
        for outlet in ("kabar", "warta"):
            conn.exec_driver_sql(f"INSERT INTO dim_outlet (outlet_code, name, domain, first_seen_on, last_seen_on) "
                                 f"VALUES ('{outlet}', '{outlet.title()} Test', '{outlet}.test', DATE '{D3}', DATE '{D3}')")
        for article_id, url, outlet, title, duplicate_of, similarity in articles:
            conn.execute(
                sa.text(
                    "INSERT INTO fact_news_article (article_id, canonical_url, url, outlet_code, source, published_at, published_on, "
                    "published_estimated, title, cluster_id, duplicate_of, similarity, first_seen_at, last_seen_at) VALUES "
                    "(:id, :u, :u, :o, 'feed', :t, :d, FALSE, :title, :cluster, :dup, :sim, :t, :t)"),
                {"id": article_id, "u": url, "o": outlet, "t": seen, "d": D3 if article_id != "n3" else D2,
                 "title": title, "cluster": duplicate_of or article_id, "dup": duplicate_of, "sim": similarity},
            )
        for article, agency, alias, sentiment in (("n1", "KEM-A", "Kementerian A", -0.5), ("n2", "KEM-A", "Kementerian A", -0.5),
                                                  ("n3", "KEM-A", "Kemen A", 0.25), ("n3", "KEM-B", "Kementerian B", 0.1)):
            conn.exec_driver_sql(
                "INSERT INTO fact_news_mention (article_id, agency_code, published_on, alias, position, mentions, confidence, method, sentiment) "
                f"VALUES ('{article}', '{agency}', DATE '{D3 if article != 'n3' else D2}', '{alias}', 0, 1, 1.0, 'alias', {sentiment})"
            )
    return warehouse


def question(name: str) -> str:
    sql = (ANALYST / name).read_text(encoding="utf-8")
    for demo, ours in SCENARIO_LITERALS.items():
        sql = sql.replace(demo, ours)
    return sql.rstrip().rstrip(";")


def answer(warehouse: Warehouse, name: str) -> list[tuple]:
    def plain(value: object) -> object:
        return float(value) if isinstance(value, Decimal) else value
    return [tuple(plain(v) for v in row) for row in warehouse.query(question(name))]


def test_top_ministries_by_engagement_rate(scenario: Warehouse) -> None:
    # KEM-A: mean(8.0, 27000/1510, 16000/1530) = 12.11; KEM-B: mean(10.0, 0.5, 12000/1990) = 5.51; both ranked all 3 days.
    assert answer(scenario, "q1_top_ministries_by_engagement_rate.sql") == [("Kementerian A", 12.1, 3, 1.0), ("Kementerian B", 5.5, 3, 1.0)]


def test_one_province_trend(scenario: Warehouse) -> None:
    assert answer(scenario, "q2_province_trend.sql") == [(D1, 0, None, None, None, 0.0), (D2, 0, None, None, None, 0.0), (D3, 0, None, None, None, 0.0)]


def test_low_coverage_and_why(scenario: Warehouse) -> None:
    assert answer(scenario, "q3_low_coverage_and_why.sql") == [("Provinsi C", 0.0, "youtube", "api_error", 1, None)]


def test_campaign_standings(scenario: Warehouse) -> None:
    # Scores: days active (A 1, B 2), posts (2, 2), engagement (48, 33): CUME_DIST means 100 x (0.5 + 1 + 1) / 3 = 83.3 each.
    assert answer(scenario, "q4_campaign_standings.sql") == [
        ("kementerian", 1, "Kementerian A", 83.3, 1, 2, 48, 0, False, 1.0),
        ("kementerian", 1, "Kementerian B", 83.3, 2, 2, 33, 0, False, 1.0),
    ]


def test_news_mentions_with_sentiment(scenario: Warehouse) -> None:
    # The syndicated copy n2 is left out; KEM-B's mention of n3 is another agency's.
    assert answer(scenario, "q5_news_mentions_with_sentiment.sql") == [
        (D3, "Kabar Test", "Kementerian A dikritik soal layanan lambat", "Kementerian A", -0.5),
        (D2, "Kabar Test", "Kemen A luncurkan aplikasi baru", "Kemen A", 0.25),
    ]


def test_the_readme_shows_each_question_as_it_is_tested() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    files = sorted(p.name for p in ANALYST.glob("*.sql"))
    assert len(files) == 5
    for name in files:
        sql = (ANALYST / name).read_text(encoding="utf-8").strip()
        assert sql in readme, f"README does not show {name} as it is"
        for demo in SCENARIO_LITERALS:
            assert len(re.findall(re.escape(demo), sql)) <= 1



def test_pantau_standings_prints_a_campaigns_whole_period(scenario: Warehouse, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["standings", "--campaign", "CAMP"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "KTT ASEAN (CAMP), 2026-09-05 .. 2026-09-07: standings as of 2026-09-07, whole period",
        "",
        "kementerian",
        "    #  agency                                            score  days  posts  engagement  1st post  coverage",
        "    1  Kementerian A                                      83.3     1      2          48         0      100%",
        "    1  Kementerian B                                      83.3     2      2          33         0      100%",
        "",
        "provinsi",
        "  not ranked: 1 no campaign post",
        "",
        "1st post: days from the campaign start, or from the agency's first day of data when later (*)",
    ]
    assert cli.main(["standings", "--campaign", "KTT-2019"]) == 1
    assert capsys.readouterr().err.strip() == "pantau: campaign 'KTT-2019' is not in the warehouse's campaign table (known: CAMP)"
