-- Account counters from an export file (source = 'export'); an API snapshot of the same account and day is kept instead.
INSERT INTO fact_account_daily (account_key, snapshot_date, captured_at, followers, following, total_posts, total_views,
                                source, export_file, export_hash)
SELECT account_key, snapshot_date, captured_at, followers, following, total_posts, total_views,
       'export', :export_file, :export_hash
FROM stg_account_snapshots
ON CONFLICT (account_key, snapshot_date) DO UPDATE SET
    captured_at = excluded.captured_at,
    followers   = excluded.followers,
    following   = excluded.following,
    total_posts = excluded.total_posts,
    total_views = excluded.total_views,
    export_file = excluded.export_file,
    export_hash = excluded.export_hash
WHERE fact_account_daily.source = 'export';
