-- An account's counters for a snapshot day; a rerun of the day replaces them.
INSERT INTO fact_account_daily (account_key, snapshot_date, captured_at, followers, following, total_posts, total_views)
SELECT account_key, snapshot_date, captured_at, followers, following, total_posts, total_views
FROM stg_account_snapshots
ON CONFLICT (account_key, snapshot_date) DO UPDATE SET
    captured_at = excluded.captured_at,
    followers   = excluded.followers,
    following   = excluded.following,
    total_posts = excluded.total_posts,
    total_views = excluded.total_views;
