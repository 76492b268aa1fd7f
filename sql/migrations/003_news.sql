-- 003: news mentions (issue 4). Portable between PostgreSQL and DuckDB, as 001.
-- Timestamps are UTC without time zone; *_on columns are Asia/Jakarta calendar days.

CREATE TABLE dim_outlet (
    outlet_code    VARCHAR PRIMARY KEY,           -- registry code for listed feeds; the domain for GDELT-only outlets
    name           VARCHAR NOT NULL,
    domain         VARCHAR,
    province_code  VARCHAR,                       -- Kemendagri code of a regional outlet's province
    first_seen_on  DATE NOT NULL,
    last_seen_on   DATE NOT NULL
);

CREATE TABLE fact_news_article (
    article_id           VARCHAR PRIMARY KEY,     -- SHA-256 prefix of canonical_url
    canonical_url        VARCHAR NOT NULL,
    url                  VARCHAR NOT NULL,        -- as first seen
    outlet_code          VARCHAR NOT NULL,
    source               VARCHAR NOT NULL,        -- feed or gdelt (the first that reported it)
    published_at         TIMESTAMP NOT NULL,      -- UTC
    published_on         DATE NOT NULL,           -- Asia/Jakarta
    published_estimated  BOOLEAN NOT NULL,        -- no readable date: the fetch time stands in
    title                VARCHAR NOT NULL,
    summary              VARCHAR,
    language             VARCHAR,
    cluster_id           VARCHAR NOT NULL,        -- article_id of the story's original (itself for an original)
    duplicate_of         VARCHAR,                 -- the original's article_id for a syndicated copy, else NULL
    similarity           DOUBLE PRECISION,        -- Jaccard of word 3-gram shingles with the original
    sentiment            DOUBLE PRECISION,        -- whole-article score in [-1, 1]
    first_seen_at        TIMESTAMP NOT NULL,
    last_seen_at         TIMESTAMP NOT NULL
);

CREATE TABLE fact_news_mention (
    article_id    VARCHAR NOT NULL,
    agency_code   VARCHAR NOT NULL,
    published_on  DATE NOT NULL,
    alias         VARCHAR NOT NULL,               -- the alias of the most confident mention
    position      INTEGER NOT NULL,               -- character offset of the first mention in title + text
    mentions      INTEGER NOT NULL,               -- how many times the article names the agency
    confidence    DOUBLE PRECISION NOT NULL,      -- 0..1, of the most confident mention
    method        VARCHAR NOT NULL,               -- alias or office+place
    sentiment     DOUBLE PRECISION NOT NULL,      -- score in [-1, 1] of the sentences naming the agency
    PRIMARY KEY (article_id, agency_code)
);

CREATE TABLE etl_news_feed_health (
    feed_url              VARCHAR PRIMARY KEY,
    outlet_code           VARCHAR NOT NULL,
    last_status           VARCHAR NOT NULL,       -- ok, not_modified, failed, disabled
    last_http_status      INTEGER,
    last_checked_at       TIMESTAMP NOT NULL,
    last_success_at       TIMESTAMP,
    last_new_item_at      TIMESTAMP,
    consecutive_failures  INTEGER NOT NULL,
    is_disabled           BOOLEAN NOT NULL,
    disabled_reason       VARCHAR,
    etag                  VARCHAR,
    last_modified         VARCHAR,
    items_last_fetch      INTEGER NOT NULL,
    new_items_last_fetch  INTEGER NOT NULL,
    problems_last_fetch   INTEGER NOT NULL,
    last_problem          VARCHAR
);

ALTER TABLE agency_daily_indicators ADD COLUMN news_mentions BIGINT;
ALTER TABLE agency_daily_indicators ADD COLUMN news_copies BIGINT;
ALTER TABLE agency_daily_indicators ADD COLUMN news_outlets BIGINT;
ALTER TABLE agency_daily_indicators ADD COLUMN news_sentiment DOUBLE PRECISION;
ALTER TABLE agency_daily_indicators ADD COLUMN news_negative_share DOUBLE PRECISION;
