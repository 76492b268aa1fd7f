-- fact_post_daily_increase for :day: what each post earned since its previous snapshot.
-- Parameters: :day, :lookback_start (oldest snapshot read as "previous").
--   * a counter counts only when both snapshots serve it (hidden counts add nothing);
--   * a post with no earlier snapshot counts in full if published on :day, else NULL (baseline unknown);
--   * increases may be negative (likes withdrawn) and are kept.
DELETE FROM fact_post_daily_increase WHERE snapshot_date = :day;

INSERT INTO fact_post_daily_increase (platform, platform_post_id, snapshot_date, account_key, engagement, views)
-- The previous snapshot comes from LAG over each post's snapshots, not from joining the ranked snapshots to
-- themselves: PostgreSQL cannot estimate a filter on a window's output and nested-looped that self-join
-- (10+ minutes for 89,000 posts, issue 11).
WITH ranked_snapshots AS (
    SELECT m.platform, m.platform_post_id, m.account_key, m.snapshot_date,
           m.likes, m.comments, m.shares, m.quotes, m.saves, m.views,
           ROW_NUMBER() OVER w AS recency,
           LEAD(m.snapshot_date) OVER w AS prev_snapshot_date,
           LEAD(m.likes) OVER w AS prev_likes, LEAD(m.comments) OVER w AS prev_comments,
           LEAD(m.shares) OVER w AS prev_shares, LEAD(m.quotes) OVER w AS prev_quotes,
           LEAD(m.saves) OVER w AS prev_saves, LEAD(m.views) OVER w AS prev_views
    FROM fact_post_metrics_daily m
    WHERE m.snapshot_date <= :day AND m.snapshot_date >= :lookback_start
      AND EXISTS (SELECT 1 FROM fact_post_metrics_daily t
                  WHERE t.platform = m.platform AND t.platform_post_id = m.platform_post_id AND t.snapshot_date = :day)
    WINDOW w AS (PARTITION BY m.platform, m.platform_post_id ORDER BY m.snapshot_date DESC)
)
SELECT cur.platform, cur.platform_post_id, CAST(:day AS DATE), cur.account_key,
       CASE
         WHEN cur.prev_snapshot_date IS NOT NULL THEN
             COALESCE(cur.likes - cur.prev_likes, 0) + COALESCE(cur.comments - cur.prev_comments, 0)
           + COALESCE(cur.shares - cur.prev_shares, 0) + COALESCE(cur.quotes - cur.prev_quotes, 0)
           + COALESCE(cur.saves - cur.prev_saves, 0)
         WHEN p.published_on = :day THEN
             COALESCE(cur.likes, 0) + COALESCE(cur.comments, 0) + COALESCE(cur.shares, 0)
           + COALESCE(cur.quotes, 0) + COALESCE(cur.saves, 0)
       END,
       CASE
         WHEN cur.prev_snapshot_date IS NOT NULL THEN COALESCE(cur.views - cur.prev_views, 0)
         WHEN p.published_on = :day THEN COALESCE(cur.views, 0)
       END
FROM ranked_snapshots cur
JOIN dim_post p ON p.platform = cur.platform AND p.platform_post_id = cur.platform_post_id
WHERE cur.recency = 1;
