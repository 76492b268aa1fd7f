-- Post counters from an export file (source = 'export'). An API snapshot of the same post and day is kept
-- instead: one row per post and day, so an export and an API read of the same post never count twice.
INSERT INTO fact_post_metrics_daily (platform, platform_post_id, snapshot_date, account_key, captured_at,
                                     likes, comments, shares, views, saves, quotes, unavailable_metrics,
                                     source, export_file, export_hash)
SELECT platform, platform_post_id, snapshot_date, account_key, captured_at,
       likes, comments, shares, views, saves, quotes, unavailable_metrics, 'export', :export_file, :export_hash
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
    export_file = excluded.export_file,
    export_hash = excluded.export_hash
WHERE fact_post_metrics_daily.source = 'export';
