-- agency_daily_indicators for one day (:day), per agency and platform, plus a platform = 'all' row.
-- Parameters: :day, :previous_day (= :day - 1). Runs after post_daily_increase.sql.
-- Definitions (docs/indicators.md explains them for analysts):
--   posts_published  posts of the agency's layer-0 (official) accounts published on :day (Asia/Jakarta calendar)
--   followers        sum of the layer-0 accounts' followers in the :day snapshot (NULL when none was collected)
--   follower_growth  sum, over layer-0 accounts collected on both days, of followers(:day) - followers(:previous_day)
--   engagement       sum over layer-0 posts of their increase on :day in fact_post_daily_increase
--                    (likes + comments + shares + quotes + saves since the previous snapshot)
--   views            the same for views
--                    (0, not NULL, when the agency's official accounts were read but earned nothing)
--   engagement_rate  engagement per 1,000 followers (NULL when followers is NULL or 0)
--   coverage         accounts (all layers) collected on :day — status 'ok' (API) or 'ok_export' (an analytics export
--                    covered the day) in etl_account_coverage — / active accounts
--   accounts_by_export  of those, the accounts collected from exports
DELETE FROM agency_daily_indicators WHERE indicator_date = :day;

INSERT INTO agency_daily_indicators (agency_code, indicator_date, platform, posts_published, followers, follower_growth,
                                     engagement, views, engagement_rate, accounts_registered, accounts_collected, coverage,
                                     accounts_by_export)
WITH active_accounts AS (
    SELECT account_key, agency_code, platform, layer
    FROM dim_account
    WHERE (active_from IS NULL OR active_from <= :day)
      AND (active_to IS NULL OR active_to >= :day)
),
scoped_accounts AS (  -- every account counts for its platform and for 'all'
    SELECT account_key, agency_code, layer, platform FROM active_accounts
    UNION ALL
    SELECT account_key, agency_code, layer, 'all' FROM active_accounts
),
grid AS (
    SELECT DISTINCT agency_code, platform FROM scoped_accounts
    UNION
    SELECT agency_code, 'all' FROM dim_agency
),
posts AS (
    SELECT s.agency_code, s.platform, COUNT(*) AS posts_published
    FROM dim_post p
    JOIN scoped_accounts s ON s.account_key = p.account_key AND s.layer = 0
    WHERE p.published_on = :day
    GROUP BY s.agency_code, s.platform
),
followers AS (
    SELECT s.agency_code, s.platform, SUM(f.followers) AS followers
    FROM fact_account_daily f
    JOIN scoped_accounts s ON s.account_key = f.account_key AND s.layer = 0
    WHERE f.snapshot_date = :day
    GROUP BY s.agency_code, s.platform
),
growth AS (
    SELECT s.agency_code, s.platform, SUM(today.followers - yesterday.followers) AS follower_growth
    FROM fact_account_daily today
    JOIN fact_account_daily yesterday
      ON yesterday.account_key = today.account_key AND yesterday.snapshot_date = :previous_day
    JOIN scoped_accounts s ON s.account_key = today.account_key AND s.layer = 0
    WHERE today.snapshot_date = :day
      AND today.followers IS NOT NULL AND yesterday.followers IS NOT NULL
    GROUP BY s.agency_code, s.platform
),
engagement AS (  -- per-post increases come from fact_post_daily_increase (post_daily_increase.sql)
    SELECT s.agency_code, s.platform, SUM(i.engagement) AS engagement, SUM(i.views) AS views
    FROM fact_post_daily_increase i
    JOIN scoped_accounts s ON s.account_key = i.account_key AND s.layer = 0
    WHERE i.snapshot_date = :day
    GROUP BY s.agency_code, s.platform
),
coverage AS (
    SELECT s.agency_code, s.platform,
           COUNT(*) AS accounts_registered,
           SUM(CASE WHEN c.status IN ('ok', 'ok_export') THEN 1 ELSE 0 END) AS accounts_collected,
           SUM(CASE WHEN c.status = 'ok_export' THEN 1 ELSE 0 END) AS accounts_by_export
    FROM scoped_accounts s
    LEFT JOIN etl_account_coverage c ON c.account_key = s.account_key AND c.snapshot_date = :day
    GROUP BY s.agency_code, s.platform
)
SELECT g.agency_code,
       CAST(:day AS DATE),
       g.platform,
       COALESCE(p.posts_published, 0),
       f.followers,
       gr.follower_growth,
       COALESCE(e.engagement, CASE WHEN f.followers IS NOT NULL THEN 0 END),
       COALESCE(e.views, CASE WHEN f.followers IS NOT NULL THEN 0 END),
       CASE WHEN f.followers > 0 THEN COALESCE(e.engagement, 0) * 1000.0 / f.followers END,
       COALESCE(c.accounts_registered, 0),
       COALESCE(c.accounts_collected, 0),
       CASE WHEN c.accounts_registered > 0 THEN c.accounts_collected * 1.0 / c.accounts_registered END,
       COALESCE(c.accounts_by_export, 0)
FROM grid g
LEFT JOIN posts p ON p.agency_code = g.agency_code AND p.platform = g.platform
LEFT JOIN followers f ON f.agency_code = g.agency_code AND f.platform = g.platform
LEFT JOIN growth gr ON gr.agency_code = g.agency_code AND gr.platform = g.platform
LEFT JOIN engagement e ON e.agency_code = g.agency_code AND e.platform = g.platform
LEFT JOIN coverage c ON c.agency_code = g.agency_code AND c.platform = g.platform;
