-- An account's counters for a snapshot day; a rerun of the day replaces them.
-- Rows whose values are unchanged are not rewritten (a rerun of a night writes nothing: issue 11).
-- It also replaces an export's row of the same day (the API read wins: one row per day, nothing counted twice).
INSERT INTO fact_account_daily (account_key, snapshot_date, captured_at, followers, following, total_posts, total_views)
SELECT account_key, snapshot_date, captured_at, followers, following, total_posts, total_views
FROM stg_account_snapshots
ON CONFLICT (account_key, snapshot_date) DO UPDATE SET
    captured_at = excluded.captured_at,
    followers   = excluded.followers,
    following   = excluded.following,
    total_posts = excluded.total_posts,
    total_views = excluded.total_views,
    source      = 'api',
    export_file = NULL,
    export_hash = NULL
WHERE fact_account_daily.source IS DISTINCT FROM 'api'
   OR fact_account_daily.export_file IS NOT NULL
   OR fact_account_daily.export_hash IS NOT NULL
   OR fact_account_daily.captured_at IS DISTINCT FROM excluded.captured_at
   OR fact_account_daily.followers IS DISTINCT FROM excluded.followers
   OR fact_account_daily.following IS DISTINCT FROM excluded.following
   OR fact_account_daily.total_posts IS DISTINCT FROM excluded.total_posts
   OR fact_account_daily.total_views IS DISTINCT FROM excluded.total_views;
