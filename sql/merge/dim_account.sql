-- Accounts are updated in place; an account removed from the registry is closed (active_to), not deleted,
-- because its posts and snapshots stay in the warehouse.
INSERT INTO dim_account (account_key, agency_code, platform, handle, platform_account_id, layer,
                         active_from, active_to, is_sandbox, collected_by)
SELECT account_key, agency_code, platform, handle, platform_account_id, layer, active_from, active_to, is_sandbox,
       COALESCE(collected_by, 'api')  -- optional in a frame: an account is read from its API unless said otherwise
FROM stg_accounts
ON CONFLICT (account_key) DO UPDATE SET
    agency_code = excluded.agency_code,
    platform = excluded.platform,
    handle = excluded.handle,
    platform_account_id = excluded.platform_account_id,
    layer = excluded.layer,
    active_from = excluded.active_from,
    active_to = excluded.active_to,
    is_sandbox = excluded.is_sandbox,
    collected_by = excluded.collected_by;
UPDATE dim_account SET active_to = CAST(:closed_on AS DATE)
WHERE active_to IS NULL AND account_key NOT IN (SELECT account_key FROM stg_accounts);
