CREATE TEMPORARY TABLE stg_accounts (
    account_key          VARCHAR,
    agency_code          VARCHAR,
    platform             VARCHAR,
    handle               VARCHAR,
    platform_account_id  VARCHAR,
    layer                INTEGER,
    active_from          DATE,
    active_to            DATE,
    is_sandbox           BOOLEAN,
    collected_by         VARCHAR
);
