-- 001: the core warehouse. Portable between PostgreSQL and DuckDB:
-- timestamps are UTC without time zone; Jakarta calendar dates are DATE columns.

CREATE TABLE dim_agency (
    agency_code         VARCHAR PRIMARY KEY,
    name                VARCHAR NOT NULL,
    short_name          VARCHAR,
    category            VARCHAR NOT NULL,          -- kementerian, lembaga, provinsi, kabkota
    parent_agency_code  VARCHAR,                   -- the province of a kabkota
    region_code         VARCHAR                    -- Kemendagri code (not BPS)
);

CREATE TABLE dim_agency_alias (
    agency_code  VARCHAR NOT NULL,
    alias        VARCHAR NOT NULL,
    kind         VARCHAR NOT NULL,                 -- name, short, abbreviation, colloquial, former_name
    valid_from   DATE,
    valid_to     DATE,
    PRIMARY KEY (agency_code, alias)
);

CREATE TABLE dim_account (
    account_key          VARCHAR PRIMARY KEY,      -- <platform>:<agency_code>:<n>, stable
    agency_code          VARCHAR NOT NULL,
    platform             VARCHAR NOT NULL,         -- youtube, instagram, facebook, x, tiktok
    handle               VARCHAR,
    platform_account_id  VARCHAR,
    layer                INTEGER NOT NULL,         -- 0 official, 1 KOL, 2 white label, 3 employee advocacy
    active_from          DATE,
    active_to            DATE,
    is_sandbox           BOOLEAN NOT NULL
);

CREATE TABLE campaign (
    campaign_code  VARCHAR PRIMARY KEY,
    name           VARCHAR NOT NULL,
    theme          VARCHAR,
    hashtags       VARCHAR,                        -- '|'-separated, lower case, without '#'
    keywords       VARCHAR,                        -- '|'-separated
    starts_on      DATE NOT NULL,
    ends_on        DATE NOT NULL,
    is_sandbox     BOOLEAN NOT NULL
);

CREATE TABLE dim_post (
    platform           VARCHAR NOT NULL,
    platform_post_id   VARCHAR NOT NULL,
    account_key        VARCHAR NOT NULL,
    published_at       TIMESTAMP NOT NULL,         -- UTC
    published_on       DATE NOT NULL,              -- calendar day in Asia/Jakarta
    post_type          VARCHAR,
    title              VARCHAR,
    text               VARCHAR,
    hashtags           VARCHAR,                    -- '|'-separated, lower case, without '#'
    url                VARCHAR,
    is_deleted         BOOLEAN NOT NULL,
    deleted_seen_on    DATE,                       -- first snapshot day the platform no longer served it
    first_seen_on      DATE NOT NULL,
    last_seen_on       DATE NOT NULL,
    PRIMARY KEY (platform, platform_post_id)
);

CREATE TABLE fact_account_daily (
    account_key    VARCHAR NOT NULL,
    snapshot_date  DATE NOT NULL,
    captured_at    TIMESTAMP NOT NULL,             -- UTC time the counters were read
    followers      BIGINT,                         -- NULL when the platform hides it
    following      BIGINT,
    total_posts    BIGINT,
    total_views    BIGINT,
    PRIMARY KEY (account_key, snapshot_date)
);

CREATE TABLE fact_post_metrics_daily (
    platform          VARCHAR NOT NULL,
    platform_post_id  VARCHAR NOT NULL,
    snapshot_date     DATE NOT NULL,
    account_key       VARCHAR NOT NULL,
    captured_at       TIMESTAMP NOT NULL,
    likes             BIGINT,                      -- cumulative; NULL = not served (hidden), never 0
    comments          BIGINT,
    shares            BIGINT,
    views             BIGINT,
    saves             BIGINT,
    quotes            BIGINT,
    PRIMARY KEY (platform, platform_post_id, snapshot_date)
);

CREATE TABLE etl_account_coverage (
    account_key    VARCHAR NOT NULL,
    snapshot_date  DATE NOT NULL,
    platform       VARCHAR NOT NULL,
    status         VARCHAR NOT NULL,               -- ok, deferred, not_found, api_error, token_expired, private
    message        VARCHAR,
    PRIMARY KEY (account_key, snapshot_date)
);

CREATE TABLE agency_daily_indicators (
    agency_code          VARCHAR NOT NULL,
    indicator_date       DATE NOT NULL,
    platform             VARCHAR NOT NULL,         -- a platform, or 'all'
    posts_published      BIGINT NOT NULL,
    followers            BIGINT,
    follower_growth      BIGINT,
    engagement           BIGINT,
    views                BIGINT,
    engagement_rate      DOUBLE PRECISION,         -- engagement per 1,000 followers
    accounts_registered  INTEGER NOT NULL,
    accounts_collected   INTEGER NOT NULL,
    coverage             DOUBLE PRECISION,         -- accounts_collected / accounts_registered
    PRIMARY KEY (agency_code, indicator_date, platform)
);

CREATE TABLE etl_run (
    run_id            VARCHAR NOT NULL,
    dag_id            VARCHAR NOT NULL,
    task_id           VARCHAR NOT NULL,
    map_index         INTEGER NOT NULL,
    source            VARCHAR,
    shard             VARCHAR,
    data_date         DATE,
    started_at        TIMESTAMP NOT NULL,
    finished_at       TIMESTAMP,
    status            VARCHAR NOT NULL,            -- success, partial, failed
    rows_extracted    BIGINT,
    rows_valid        BIGINT,
    rows_quarantined  BIGINT,
    rows_loaded       BIGINT,
    api_calls         BIGINT,
    api_retries       BIGINT,
    seconds           DOUBLE PRECISION,
    message           VARCHAR,
    PRIMARY KEY (run_id, task_id, map_index)
);

CREATE TABLE etl_quarantine (
    data_date            DATE NOT NULL,
    source               VARCHAR NOT NULL,
    frame                VARCHAR NOT NULL,
    part                 VARCHAR NOT NULL,        -- the landing part (shard) the row came from
    record_key           VARCHAR NOT NULL,        -- the row's natural key, or its position when it has none
    run_id               VARCHAR NOT NULL,
    account              VARCHAR,
    failed_expectations  VARCHAR NOT NULL,        -- JSON list of expectation(column)
    parse_issue          VARCHAR,
    record               VARCHAR,                 -- the raw item as received (JSON)
    landing_file         VARCHAR,
    PRIMARY KEY (data_date, source, frame, record_key)
);
