-- A post's cumulative counters for a snapshot day; a rerun of the day replaces them.
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
    unavailable_metrics = excluded.unavailable_metrics;
