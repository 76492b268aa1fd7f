"""Every indicator on a hand-made scenario: three agencies in two categories, six accounts, three days, one campaign.

All expected values are computed by hand in the comments below, and asserted on DuckDB and PostgreSQL.

Days D1..D3 = 2026-09-05..07 (the campaign's period). Snapshots are read at 01:00 WIB the next morning (18:00 UTC).
Accounts (YouTube unless said): A0 (KEM-A, layer 0, 1000/1010/1030 followers), A1 (KEM-A, layer 1),
xA0 (KEM-A, X, layer 0, 500 followers every day), xA1 (KEM-A, X, layer 1), B0 (KEM-B, layer 0, 2000/2000/1990),
C0 (PROV-C, layer 0, never collected). Every account but C0 is collected every day.
Posts (likes, comments, views per snapshot day; shares/saves/quotes not served):
  a1  A0  published D1 02:00 WIB  #aseanmatters, "KTT ASEAN"  D1 (10,2,100)  D2 (30,4,300)  D3 (40,5,350)
  a2  A0  published D2 10:00 WIB  no campaign              D2 (5,0,50)     D3 (9,1,80)
  l1  A1  published D1 12:00 WIB  #aseanmatters            D1 (1,0,10)     D2 (2,0,20)     D3 (3,0,30)
  b1  B0  published D1 09:00 WIB  #aseanmatters            D1 (20,0,200)   D2 (20,1,260)   D3 (25,1,300)
  b2  B0  published D3 08:00 WIB  "ktt asean" in the title D3 (7,hidden,70)
Tweets (no metric snapshots; they matter for what they reference):
  xa1  xA0  published D1 07:00 WIB   reposted by xl1
  xa2  xA0  published D1 11:00 WIB   quoted by xl2
  xa3  xA0  published D1 15:00 WIB   replied to by xl3
  xl1  xA1  published D2 20:00 WIB   repost of xa1 (37 h after it)
  xl2  xA1  published D3 12:00 WIB   quote of xa2 (49 h after it)
  xl3  xA1  published D1 16:00 WIB   reply to xa3 (1 h after it)
Daily increases (engagement, views):
  D1: a1 12,100 (new)   l1 1,10 (new)   b1 20,200 (new)
  D2: a1 22,200   a2 5,50 (new)   l1 1,10   b1 1,60
  D3: a1 11,50    a2 5,30         l1 1,10   b1 5,40   b2 7,70 (new; hidden likes add nothing)
"""

from __future__ import annotations

import pytest

from etl.pipeline import compute_indicators
from etl.runtime import RunContext
from etl.settings import load_settings
from etl.warehouse import Warehouse
from tests.scenario import D1, D2, D3, build_scenario


@pytest.fixture
def scenario(warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch) -> Warehouse:
    monkeypatch.setenv("WAREHOUSE_URL", warehouse.url)
    return build_scenario(warehouse)


def rows(warehouse: Warehouse, sql: str, **params) -> list[tuple]:
    return [tuple(round(v, 4) if isinstance(v, float) else v for v in r) for r in warehouse.query(sql, params)]


def test_daily_indicators(scenario: Warehouse) -> None:
    got = rows(scenario, "SELECT agency_code, indicator_date, posts_published, followers, follower_growth, engagement, views, "
                         "engagement_rate, accounts_registered, accounts_collected, coverage, active_platforms "
                         "FROM agency_daily_indicators WHERE platform = 'all' ORDER BY agency_code, indicator_date")
    # KEM-A: D1 posts a1 + xa1..xa3 on two platforms; followers A0 + xA0; the tweets earned nothing that was read.
    assert got == [
        ("KEM-A", D1, 4, 1500, None, 12, 100, 8.0, 4, 4, 1.0, 2),
        ("KEM-A", D2, 1, 1510, 10, 27, 250, round(27000 / 1510, 4), 4, 4, 1.0, 1),
        ("KEM-A", D3, 0, 1530, 20, 16, 80, round(16000 / 1530, 4), 4, 4, 1.0, 0),
        ("KEM-B", D1, 1, 2000, None, 20, 200, 10.0, 1, 1, 1.0, 1),
        ("KEM-B", D2, 0, 2000, 0, 1, 60, 0.5, 1, 1, 1.0, 0),
        ("KEM-B", D3, 1, 1990, -10, 12, 110, round(12000 / 1990, 4), 1, 1, 1.0, 1),
        # an agency with no data: registered, nothing collected, every measure NULL, counts 0
        ("PROV-C", D1, 0, None, None, None, None, None, 1, 0, 0.0, 0),
        ("PROV-C", D2, 0, None, None, None, None, None, 1, 0, 0.0, 0),
        ("PROV-C", D3, 0, None, None, None, None, None, 1, 0, 0.0, 0),
    ]


def test_first_24_hours_popularity(scenario: Warehouse) -> None:
    # D2 judges posts of D1: a1's D1 snapshot is 23 h old (vs 47 h): 10 + 2 = 12; b1's is 16 h old (vs 40 h): 20.
    # D3 judges posts of D2: a2's D2 snapshot is 15 h old (vs 39 h): 5 + 0 = 5. KEM-B published nothing on D2.
    got = rows(scenario, "SELECT agency_code, indicator_date, popularity_posts, popularity_interactions, popularity_median, "
                         "popularity_snapshot_age_hours FROM agency_daily_indicators "
                         "WHERE platform = 'all' AND indicator_date > :d1 ORDER BY agency_code, indicator_date", d1=D1)
    assert got == [
        ("KEM-A", D2, 1, 12, 12.0, 23.0), ("KEM-A", D3, 1, 5, 5.0, 15.0),
        ("KEM-B", D2, 1, 20, 20.0, 16.0), ("KEM-B", D3, 0, None, None, None),
        ("PROV-C", D2, 0, None, None, None), ("PROV-C", D3, 0, None, None, None),
    ]


def test_fair_ranking_by_category_and_follower_band(scenario: Warehouse) -> None:
    # D3: both ministries are in the 1k-10k band; rates 10.46 (A, all), 15.53 (A, youtube) and 6.03 (B): CUME_DIST 1.0 and 0.5.
    # KEM-A on X: 500 followers (lt_1k), collected, earned 0 -> rate 0.0, ranked, alone in its band: 1.0.
    # PROV-C has no followers and 0% coverage: not ranked.
    got = rows(scenario, "SELECT agency_code, platform, follower_band, ranked, engagement_rate_percentile FROM agency_daily_indicators "
                         "WHERE indicator_date = :d ORDER BY agency_code, platform", d=D3)
    assert got == [
        ("KEM-A", "all", "1k_10k", True, 1.0), ("KEM-A", "x", "lt_1k", True, 1.0), ("KEM-A", "youtube", "1k_10k", True, 1.0),
        ("KEM-B", "all", "1k_10k", True, 0.5), ("KEM-B", "youtube", "1k_10k", True, 0.5),
        ("PROV-C", "all", None, False, None), ("PROV-C", "youtube", None, False, None),
    ]


def test_amplification_by_layers(scenario: Warehouse) -> None:
    # D3 looks at the official posts of D1 (their 48 hours are over by the end of D3); D1 and D2 look at days without posts.
    # KEM-A, youtube: a1 carries #aseanmatters and l1 (layer 1, youtube) carries it 10 h later: amplified -> 1 of 1.
    # KEM-A, x: xa1 reposted by xl1 (layer 1) 37 h later: amplified; xa2 quoted by xl2 49 h later: too late;
    #           xa3 only replied to by xl3: a reply is not amplification -> 1 of 3.
    # KEM-A, all: 1 + 1 of 1 + 3 -> 2 / 4 = 0.5.
    # KEM-B: b1 carries #aseanmatters but KEM-B has no layer 1-3 account: echoed by nobody -> 0 of 1 (youtube and all).
    # PROV-C published nothing: 0 of 0, NULL.
    got = rows(scenario, "SELECT agency_code, indicator_date, platform, amplification_posts, amplified_posts, amplification "
                         "FROM agency_daily_indicators ORDER BY agency_code, indicator_date, platform")
    assert got == [
        ("KEM-A", D1, "all", 0, 0, None), ("KEM-A", D1, "x", 0, 0, None), ("KEM-A", D1, "youtube", 0, 0, None),
        ("KEM-A", D2, "all", 0, 0, None), ("KEM-A", D2, "x", 0, 0, None), ("KEM-A", D2, "youtube", 0, 0, None),
        ("KEM-A", D3, "all", 4, 2, 0.5), ("KEM-A", D3, "x", 3, 1, round(1 / 3, 4)), ("KEM-A", D3, "youtube", 1, 1, 1.0),
        ("KEM-B", D1, "all", 0, 0, None), ("KEM-B", D1, "youtube", 0, 0, None),
        ("KEM-B", D2, "all", 0, 0, None), ("KEM-B", D2, "youtube", 0, 0, None),
        ("KEM-B", D3, "all", 1, 0, 0.0), ("KEM-B", D3, "youtube", 1, 0, 0.0),
        ("PROV-C", D1, "all", 0, 0, None), ("PROV-C", D1, "youtube", 0, 0, None),
        ("PROV-C", D2, "all", 0, 0, None), ("PROV-C", D2, "youtube", 0, 0, None),
        ("PROV-C", D3, "all", 0, 0, None), ("PROV-C", D3, "youtube", 0, 0, None),
    ]


def test_campaign_posts_and_daily_campaign_indicators(scenario: Warehouse) -> None:
    posts = rows(scenario, "SELECT platform_post_id, agency_code, layer, published_on, matched_term FROM campaign_post ORDER BY 1")
    assert posts == [
        ("a1", "KEM-A", 0, D1, "hashtag:aseanmatters"),  # hashtag wins over the keyword it also has
        ("b1", "KEM-B", 0, D1, "hashtag:aseanmatters"),
        ("b2", "KEM-B", 0, D3, "keyword:KTT ASEAN"),  # keyword, case-insensitive
        ("l1", "KEM-A", 1, D1, "hashtag:aseanmatters"),
    ]
    daily = rows(scenario, "SELECT agency_code, indicator_date, campaign_posts, campaign_engagement FROM agency_campaign_daily ORDER BY 1, 2")
    assert daily == [
        ("KEM-A", D1, 2, 13), ("KEM-A", D2, 0, 23), ("KEM-A", D3, 0, 12),
        ("KEM-B", D1, 1, 20), ("KEM-B", D2, 0, 1), ("KEM-B", D3, 1, 12),
    ]


def test_campaign_standings_with_a_tie_and_an_unranked_agency(scenario: Warehouse) -> None:
    # As of D3 within kementerian: days active A 1, B 2 (CUME_DIST .5, 1); posts 2 and 2 (1, 1); engagement 48, 33 (1, .5).
    # Both score (2.5 / 3) x 100 = 83.3 and share rank 1. PROV-C carried nothing: listed, not ranked.
    got = rows(scenario, "SELECT agency_code, category, days_active, campaign_posts, campaign_engagement, first_post_on, "
                         "first_post_lag_days, mean_coverage, ranked, exclusion_reason, dissemination_score, rank_in_category "
                         "FROM agency_campaign_standings WHERE as_of_date = :d ORDER BY agency_code", d=D3)
    assert got == [
        ("KEM-A", "kementerian", 1, 2, 48, D1, 0, 1.0, True, None, 83.3, 1),
        ("KEM-B", "kementerian", 2, 2, 33, D1, 0, 1.0, True, None, 83.3, 1),
        ("PROV-C", "provinsi", 0, 0, 0, None, None, 0.0, False, "no campaign post", None, None),
    ]


def test_recomputing_an_earlier_day_leaves_later_days_alone(scenario: Warehouse) -> None:
    before = rows(scenario, "SELECT * FROM agency_daily_indicators WHERE indicator_date = :d ORDER BY agency_code, platform", d=D3)
    compute_indicators(RunContext.for_day(D1, run_id="again", dag_id="agency_indicators"), load_settings())
    assert rows(scenario, "SELECT * FROM agency_daily_indicators WHERE indicator_date = :d ORDER BY agency_code, platform", d=D3) == before
