CREATE TEMPORARY TABLE stg_account_coverage (
    account_key    VARCHAR,
    snapshot_date  DATE,
    platform       VARCHAR,
    status         VARCHAR,
    message        VARCHAR
);
