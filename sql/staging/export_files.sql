CREATE TEMPORARY TABLE stg_export_files (
    file_hash         VARCHAR,
    account_key       VARCHAR,
    file_name         VARCHAR,
    platform          VARCHAR,
    export_format     VARCHAR,
    period_start      DATE,
    period_end        DATE,
    rows_loaded       BIGINT,
    rows_quarantined  BIGINT,
    status            VARCHAR,
    message           VARCHAR,
    landing_file      VARCHAR,
    run_id            VARCHAR,
    imported_at       TIMESTAMP
);
