CREATE TEMPORARY TABLE stg_post_deletions (
    platform          VARCHAR,
    platform_post_id  VARCHAR,
    snapshot_date     DATE
);
