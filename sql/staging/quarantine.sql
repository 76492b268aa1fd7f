CREATE TEMPORARY TABLE stg_quarantine (
    data_date            DATE,
    source               VARCHAR,
    frame                VARCHAR,
    part                 VARCHAR,
    record_key           VARCHAR,
    run_id               VARCHAR,
    account              VARCHAR,
    failed_expectations  VARCHAR,
    parse_issue          VARCHAR,
    record               VARCHAR,
    landing_file         VARCHAR
);
