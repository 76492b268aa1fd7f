-- 004: campaigns, per-post daily increases, popularity, fair comparison, amplification.

CREATE TABLE campaign_term (
    campaign_code  VARCHAR NOT NULL,
    term_kind      VARCHAR NOT NULL,               -- hashtag (lower case, no '#') or keyword (matched case-insensitively)
    term           VARCHAR NOT NULL,
    PRIMARY KEY (campaign_code, term_kind, term)
);

CREATE TABLE fact_post_daily_increase (
    platform          VARCHAR NOT NULL,
    platform_post_id  VARCHAR NOT NULL,
    snapshot_date     DATE NOT NULL,
    account_key       VARCHAR NOT NULL,
    engagement        BIGINT,                      -- increase of likes+comments+shares+quotes+saves since the previous snapshot
    views             BIGINT,                      -- NULL: baseline unknown (old post seen for the first time)
    PRIMARY KEY (platform, platform_post_id, snapshot_date)
);

CREATE TABLE campaign_post (
    campaign_code     VARCHAR NOT NULL,
    platform          VARCHAR NOT NULL,
    platform_post_id  VARCHAR NOT NULL,
    account_key       VARCHAR NOT NULL,
    agency_code       VARCHAR NOT NULL,
    layer             INTEGER NOT NULL,
    published_on      DATE NOT NULL,
    matched_term      VARCHAR NOT NULL,           -- 'hashtag:<tag>' or 'keyword:<word>' that made it a campaign post (hashtags first)
    PRIMARY KEY (campaign_code, platform, platform_post_id)
);

CREATE TABLE agency_campaign_daily (
    campaign_code        VARCHAR NOT NULL,
    agency_code          VARCHAR NOT NULL,
    indicator_date       DATE NOT NULL,
    campaign_posts       BIGINT NOT NULL,          -- campaign posts published that day, all layers
    campaign_engagement  BIGINT NOT NULL,          -- engagement earned that day by all the agency's campaign posts
    PRIMARY KEY (campaign_code, agency_code, indicator_date)
);

CREATE TABLE agency_campaign_standings (
    campaign_code        VARCHAR NOT NULL,
    agency_code          VARCHAR NOT NULL,
    as_of_date           DATE NOT NULL,            -- standings over starts_on .. min(ends_on, as_of_date)
    category             VARCHAR NOT NULL,
    days_active          INTEGER NOT NULL,
    campaign_posts       BIGINT NOT NULL,
    campaign_engagement  BIGINT NOT NULL,
    first_post_on        DATE,
    first_post_lag_days  INTEGER,                  -- first_post_on - starts_on
    mean_coverage        DOUBLE PRECISION,
    ranked               BOOLEAN NOT NULL,
    exclusion_reason     VARCHAR,                  -- why an agency is not ranked
    dissemination_score  DOUBLE PRECISION,         -- 0..100
    rank_in_category     INTEGER,
    PRIMARY KEY (campaign_code, agency_code, as_of_date)
);

ALTER TABLE agency_daily_indicators ADD COLUMN active_platforms INTEGER;
ALTER TABLE agency_daily_indicators ADD COLUMN popularity_posts BIGINT;
ALTER TABLE agency_daily_indicators ADD COLUMN popularity_interactions BIGINT;
ALTER TABLE agency_daily_indicators ADD COLUMN popularity_median DOUBLE PRECISION;
ALTER TABLE agency_daily_indicators ADD COLUMN popularity_snapshot_age_hours DOUBLE PRECISION;
ALTER TABLE agency_daily_indicators ADD COLUMN follower_band VARCHAR;
ALTER TABLE agency_daily_indicators ADD COLUMN ranked BOOLEAN;
ALTER TABLE agency_daily_indicators ADD COLUMN engagement_rate_percentile DOUBLE PRECISION;
ALTER TABLE agency_daily_indicators ADD COLUMN amplification_posts BIGINT;
ALTER TABLE agency_daily_indicators ADD COLUMN amplified_posts BIGINT;
ALTER TABLE agency_daily_indicators ADD COLUMN amplification DOUBLE PRECISION;
