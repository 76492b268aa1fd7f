-- A post's cumulative counters for a snapshot day; a rerun of the day replaces them.
-- Rows whose values are unchanged are not rewritten (a rerun of a night writes nothing: issue 11).
-- It also replaces an export's row of the same day (the API read wins: one row per day, nothing counted twice).
INSERT INTO fact_post_metrics_daily (platform, platform_post_id, snapshot_date, account_key, captured_at,
                                     likes, comments, shares, views, saves, quotes, unavailable_metrics)
SELECT platform, platform_post_id, snapshot_date, account_key, captured_at,
       likes, comments, shares, views, saves, quotes, unavailable_metrics
FROM stg_post_metrics
ON CONFLICT (platform, platform_post_id, snapshot_date) DO UPDATE SET
    account_key = excluded.account_key,
    captured_at = excluded.captured_at,
    likes       = excluded.likes,
    comments    = excluded.comments,
    shares      = excluded.shares,
    views       = excluded.views,
    saves       = excluded.saves,
    quotes      = excluded.quotes,
    unavailable_metrics = excluded.unavailable_metrics,
    source      = 'api',
    export_file = NULL,
    export_hash = NULL
WHERE fact_post_metrics_daily.source IS DISTINCT FROM 'api'
   OR fact_post_metrics_daily.export_file IS NOT NULL
   OR fact_post_metrics_daily.export_hash IS NOT NULL
   OR fact_post_metrics_daily.account_key IS DISTINCT FROM excluded.account_key
   OR fact_post_metrics_daily.captured_at IS DISTINCT FROM excluded.captured_at
   OR fact_post_metrics_daily.likes IS DISTINCT FROM excluded.likes
   OR fact_post_metrics_daily.comments IS DISTINCT FROM excluded.comments
   OR fact_post_metrics_daily.shares IS DISTINCT FROM excluded.shares
   OR fact_post_metrics_daily.views IS DISTINCT FROM excluded.views
   OR fact_post_metrics_daily.saves IS DISTINCT FROM excluded.saves
   OR fact_post_metrics_daily.quotes IS DISTINCT FROM excluded.quotes
   OR fact_post_metrics_daily.unavailable_metrics IS DISTINCT FROM excluded.unavailable_metrics;
