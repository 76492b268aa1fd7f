-- Accounts an export file covered on a day count as collected ('ok_export'); an API read that day ('ok') stays.
INSERT INTO etl_account_coverage (account_key, snapshot_date, platform, status, message)
SELECT account_key, snapshot_date, platform, status, message
FROM stg_account_coverage
ON CONFLICT (account_key, snapshot_date) DO UPDATE SET
    platform = excluded.platform,
    status   = excluded.status,
    message  = excluded.message
WHERE etl_account_coverage.status <> 'ok';
