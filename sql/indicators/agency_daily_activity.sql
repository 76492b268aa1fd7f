-- Activity and popularity columns of agency_daily_indicators for :day. Runs after agency_daily_indicators.sql.
--   active_platforms           platforms on which the agency's official accounts published on :day ('all' rows; 1/0 per platform)
--   popularity_*               posts of the official accounts published on :previous_day, judged on what they earned
--                              in their first 24 hours: the interactions (likes + comments + shares + quotes + saves)
--                              of each post's snapshot nearest to 24 h after publication, among snapshots up to :day
--   popularity_posts           such posts with a snapshot
--   popularity_interactions    their sum;  popularity_median  the median per post
--   popularity_snapshot_age_hours  the mean actual age of the snapshots used (daily snapshots are rarely exactly 24 h)
UPDATE agency_daily_indicators
SET active_platforms = activity.active_platforms
FROM (
    SELECT a.agency_code, a.platform AS scope, COUNT(DISTINCT a.platform) AS active_platforms
    FROM dim_post p
    JOIN dim_account a ON a.account_key = p.account_key AND a.layer = 0
    WHERE p.published_on = :day
    GROUP BY a.agency_code, a.platform
    UNION ALL
    SELECT a.agency_code, 'all', COUNT(DISTINCT a.platform)
    FROM dim_post p
    JOIN dim_account a ON a.account_key = p.account_key AND a.layer = 0
    WHERE p.published_on = :day
    GROUP BY a.agency_code
) AS activity
WHERE agency_daily_indicators.indicator_date = :day
  AND agency_daily_indicators.agency_code = activity.agency_code
  AND agency_daily_indicators.platform = activity.scope;

UPDATE agency_daily_indicators SET active_platforms = 0
WHERE indicator_date = :day AND active_platforms IS NULL;

UPDATE agency_daily_indicators
SET popularity_posts = popularity.posts,
    popularity_interactions = popularity.interactions,
    popularity_median = popularity.median_interactions,
    popularity_snapshot_age_hours = popularity.mean_age_hours
FROM (
    WITH candidates AS (
        SELECT p.platform, p.platform_post_id, a.agency_code, a.platform AS account_platform,
               COALESCE(m.likes, 0) + COALESCE(m.comments, 0) + COALESCE(m.shares, 0)
                 + COALESCE(m.quotes, 0) + COALESCE(m.saves, 0) AS interactions,
               EXTRACT(EPOCH FROM (m.captured_at - p.published_at)) / 3600.0 AS age_hours,
               ROW_NUMBER() OVER (
                   PARTITION BY p.platform, p.platform_post_id
                   ORDER BY ABS(EXTRACT(EPOCH FROM (m.captured_at - p.published_at)) - 86400), m.snapshot_date
               ) AS nearness
        FROM dim_post p
        JOIN dim_account a ON a.account_key = p.account_key AND a.layer = 0
        JOIN fact_post_metrics_daily m ON m.platform = p.platform AND m.platform_post_id = p.platform_post_id
        WHERE p.published_on = :previous_day AND m.snapshot_date <= :day
    ),
    first_day AS (SELECT * FROM candidates WHERE nearness = 1),
    scoped AS (
        SELECT agency_code, account_platform AS scope, interactions, age_hours FROM first_day
        UNION ALL
        SELECT agency_code, 'all', interactions, age_hours FROM first_day
    )
    SELECT agency_code, scope, COUNT(*) AS posts, SUM(interactions) AS interactions,
           PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY interactions) AS median_interactions,
           CAST(ROUND(CAST(AVG(age_hours) AS NUMERIC(24, 10)), 4) AS DOUBLE PRECISION) AS mean_age_hours  -- rounded: parallel sums differ in the last bits
    FROM scoped
    GROUP BY agency_code, scope
) AS popularity
WHERE agency_daily_indicators.indicator_date = :day
  AND agency_daily_indicators.agency_code = popularity.agency_code
  AND agency_daily_indicators.platform = popularity.scope;

UPDATE agency_daily_indicators SET popularity_posts = 0
WHERE indicator_date = :day AND popularity_posts IS NULL;
