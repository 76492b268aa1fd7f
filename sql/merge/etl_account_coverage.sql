-- The coverage ledger: how collecting each account went on a snapshot day (latest run wins).
-- Rows whose values are unchanged are not rewritten (a rerun of a night writes nothing: issue 11).
INSERT INTO etl_account_coverage (account_key, snapshot_date, platform, status, message)
SELECT account_key, snapshot_date, platform, status, message
FROM stg_account_coverage
ON CONFLICT (account_key, snapshot_date) DO UPDATE SET
    platform = excluded.platform,
    status   = excluded.status,
    message  = excluded.message
WHERE etl_account_coverage.platform IS DISTINCT FROM excluded.platform
   OR etl_account_coverage.status IS DISTINCT FROM excluded.status
   OR etl_account_coverage.message IS DISTINCT FROM excluded.message;
