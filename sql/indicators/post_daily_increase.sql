-- fact_post_daily_increase for :day: what each post earned since its previous snapshot.
-- Parameters: :day, :lookback_start (oldest snapshot read as "previous").
--   * a counter counts only when both snapshots serve it (hidden counts add nothing);
--   * a post with no earlier snapshot counts in full if published on :day, else NULL (baseline unknown);
--   * increases may be negative (likes withdrawn) and are kept.
DELETE FROM fact_post_daily_increase WHERE snapshot_date = :day;

INSERT INTO fact_post_daily_increase (platform, platform_post_id, snapshot_date, account_key, engagement, views)
WITH ranked_snapshots AS (
    SELECT m.*, ROW_NUMBER() OVER (PARTITION BY m.platform, m.platform_post_id ORDER BY m.snapshot_date DESC) AS recency
    FROM fact_post_metrics_daily m
    WHERE m.snapshot_date <= :day AND m.snapshot_date >= :lookback_start
      AND EXISTS (SELECT 1 FROM fact_post_metrics_daily t
                  WHERE t.platform = m.platform AND t.platform_post_id = m.platform_post_id AND t.snapshot_date = :day)
)
SELECT cur.platform, cur.platform_post_id, CAST(:day AS DATE), cur.account_key,
       CASE
         WHEN prev.platform_post_id IS NOT NULL THEN
             COALESCE(cur.likes - prev.likes, 0) + COALESCE(cur.comments - prev.comments, 0)
           + COALESCE(cur.shares - prev.shares, 0) + COALESCE(cur.quotes - prev.quotes, 0)
           + COALESCE(cur.saves - prev.saves, 0)
         WHEN p.published_on = :day THEN
             COALESCE(cur.likes, 0) + COALESCE(cur.comments, 0) + COALESCE(cur.shares, 0)
           + COALESCE(cur.quotes, 0) + COALESCE(cur.saves, 0)
       END,
       CASE
         WHEN prev.platform_post_id IS NOT NULL THEN COALESCE(cur.views - prev.views, 0)
         WHEN p.published_on = :day THEN COALESCE(cur.views, 0)
       END
FROM ranked_snapshots cur
JOIN dim_post p ON p.platform = cur.platform AND p.platform_post_id = cur.platform_post_id
LEFT JOIN ranked_snapshots prev
  ON prev.platform = cur.platform AND prev.platform_post_id = cur.platform_post_id AND prev.recency = 2
WHERE cur.recency = 1;
