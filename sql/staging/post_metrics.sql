CREATE TEMPORARY TABLE stg_post_metrics (
    platform          VARCHAR,
    platform_post_id  VARCHAR,
    snapshot_date     DATE,
    account_key       VARCHAR,
    captured_at       TIMESTAMP,
    likes             BIGINT,
    comments          BIGINT,
    shares            BIGINT,
    views             BIGINT,
    saves             BIGINT,
    quotes            BIGINT,
    unavailable_metrics VARCHAR
);
