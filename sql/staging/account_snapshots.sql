CREATE TEMPORARY TABLE stg_account_snapshots (
    account_key    VARCHAR,
    snapshot_date  DATE,
    captured_at    TIMESTAMP,
    followers      BIGINT,
    following      BIGINT,
    total_posts    BIGINT,
    total_views    BIGINT
);
