-- fact_post_daily_increase for :day: what each post earned since its previous snapshot.
-- Parameters: :day, :previous_day (= :day - 1), :lookback_start (oldest snapshot read as "previous").
--   * a counter counts only when both snapshots serve it (hidden counts add nothing);
--   * a post with no earlier snapshot counts in full if published on :day, else NULL (baseline unknown);
--   * increases may be negative (likes withdrawn) and are kept.
DELETE FROM fact_post_daily_increase WHERE snapshot_date = :day;

INSERT INTO fact_post_daily_increase (platform, platform_post_id, snapshot_date, account_key, engagement, views)
-- Reads two nights, not the whole lookback: a post re-pulled nightly has its previous snapshot on :previous_day, and
-- only the posts without one (new today, or missed on a night) look further back, each through the primary key
-- (a correlated MAX, so PostgreSQL probes the key per post instead of joining the lookback's nights).
-- Ranking every snapshot of the lookback (LEAD over 60 nights) cost time in proportion to the history kept (issue 11).
-- dim_post is read only for the posts without an earlier snapshot (whether they were published on :day): joining it
-- whole read every post ever seen. A snapshot always has its post in dim_post (a quarantined post takes its counters
-- to quarantine, etl/pipeline.py and etl/dropbox.py).
WITH earlier_snapshot AS (  -- posts not read on :previous_day: the date of their latest snapshot inside the lookback
    SELECT t.platform, t.platform_post_id,
           (SELECT MAX(m.snapshot_date) FROM fact_post_metrics_daily m
            WHERE m.platform = t.platform AND m.platform_post_id = t.platform_post_id
              AND m.snapshot_date >= :lookback_start AND m.snapshot_date < :previous_day) AS snapshot_date
    FROM fact_post_metrics_daily t
    WHERE t.snapshot_date = :day
      AND NOT EXISTS (SELECT 1 FROM fact_post_metrics_daily y
                      WHERE y.platform = t.platform AND y.platform_post_id = t.platform_post_id
                        AND y.snapshot_date = :previous_day)
),
previous_snapshot AS (
    SELECT y.platform, y.platform_post_id, y.likes, y.comments, y.shares, y.quotes, y.saves, y.views
    FROM fact_post_metrics_daily y
    WHERE y.snapshot_date = :previous_day AND :previous_day >= :lookback_start
    UNION ALL
    SELECT m.platform, m.platform_post_id, m.likes, m.comments, m.shares, m.quotes, m.saves, m.views
    FROM earlier_snapshot e
    JOIN fact_post_metrics_daily m
      ON m.platform = e.platform AND m.platform_post_id = e.platform_post_id AND m.snapshot_date = e.snapshot_date
)
SELECT cur.platform, cur.platform_post_id, CAST(:day AS DATE), cur.account_key,
       CASE
         WHEN prev.platform_post_id IS NOT NULL THEN
             COALESCE(cur.likes - prev.likes, 0) + COALESCE(cur.comments - prev.comments, 0)
           + COALESCE(cur.shares - prev.shares, 0) + COALESCE(cur.quotes - prev.quotes, 0)
           + COALESCE(cur.saves - prev.saves, 0)
         WHEN (SELECT p.published_on FROM dim_post p
               WHERE p.platform = cur.platform AND p.platform_post_id = cur.platform_post_id) = :day THEN
             COALESCE(cur.likes, 0) + COALESCE(cur.comments, 0) + COALESCE(cur.shares, 0)
           + COALESCE(cur.quotes, 0) + COALESCE(cur.saves, 0)
       END,
       CASE
         WHEN prev.platform_post_id IS NOT NULL THEN COALESCE(cur.views - prev.views, 0)
         WHEN (SELECT p.published_on FROM dim_post p
               WHERE p.platform = cur.platform AND p.platform_post_id = cur.platform_post_id) = :day THEN
             COALESCE(cur.views, 0)
       END
FROM fact_post_metrics_daily cur
LEFT JOIN previous_snapshot prev ON prev.platform = cur.platform AND prev.platform_post_id = cur.platform_post_id
WHERE cur.snapshot_date = :day;
