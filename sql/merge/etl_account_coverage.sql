-- The coverage ledger: how collecting each account went on a snapshot day (latest run wins).
INSERT INTO etl_account_coverage (account_key, snapshot_date, platform, status, message)
SELECT account_key, snapshot_date, platform, status, message
FROM stg_account_coverage
ON CONFLICT (account_key, snapshot_date) DO UPDATE SET
    platform = excluded.platform,
    status   = excluded.status,
    message  = excluded.message;
