-- 011: platform analytics exports as a source (the file drop). Rows loaded from an export file say so:
-- source = 'export' with the file's name and SHA-256; API rows say source = 'api'. On one post and day an API
-- snapshot wins over an export's (the merge keeps one row per post and day: nothing is counted twice).

-- Accounts collected only from exports (no API access): the API sources skip them.
ALTER TABLE dim_account ADD COLUMN collected_by VARCHAR DEFAULT 'api';        -- api or export
UPDATE dim_account SET collected_by = 'api' WHERE collected_by IS NULL;

ALTER TABLE fact_post_metrics_daily ADD COLUMN source VARCHAR DEFAULT 'api';  -- api or export
ALTER TABLE fact_post_metrics_daily ADD COLUMN export_file VARCHAR;          -- the export's file name (source = 'export')
ALTER TABLE fact_post_metrics_daily ADD COLUMN export_hash VARCHAR;          -- SHA-256 of the export file
UPDATE fact_post_metrics_daily SET source = 'api' WHERE source IS NULL;

ALTER TABLE fact_account_daily ADD COLUMN source VARCHAR DEFAULT 'api';
ALTER TABLE fact_account_daily ADD COLUMN export_file VARCHAR;
ALTER TABLE fact_account_daily ADD COLUMN export_hash VARCHAR;
UPDATE fact_account_daily SET source = 'api' WHERE source IS NULL;

-- Every export file seen, per account its rows were matched to: the same bytes dropped again change nothing.
CREATE TABLE etl_export_file (
    file_hash         VARCHAR NOT NULL,          -- SHA-256 of the file's bytes
    account_key       VARCHAR NOT NULL,          -- the registered account its rows belong to; '-' when none matched
    file_name         VARCHAR NOT NULL,
    platform          VARCHAR,
    export_format     VARCHAR,                   -- e.g. tiktok_studio_content; NULL when the format is unknown
    period_start      DATE,                      -- snapshot days the file's rows are loaded on
    period_end        DATE,
    rows_loaded       BIGINT,
    rows_quarantined  BIGINT,
    status            VARCHAR NOT NULL,          -- loaded, replaced (a corrected file came), quarantined, rejected
    message           VARCHAR,
    landing_file      VARCHAR,                   -- the raw copy under landing/export/
    run_id            VARCHAR NOT NULL,
    imported_at       TIMESTAMP NOT NULL,        -- UTC
    PRIMARY KEY (file_hash, account_key)
);

-- Accounts counted collected because an export covered them that day (coverage status 'ok_export').
ALTER TABLE agency_daily_indicators ADD COLUMN accounts_by_export INTEGER;

CREATE OR REPLACE VIEW report_daily_leaderboard AS
SELECT i.indicator_date,
       a.category,
       a.agency_code,
       a.name AS agency_name,
       i.posts_published,
       i.active_platforms,
       i.followers,
       i.follower_growth,
       i.engagement,
       i.views,
       i.engagement_rate,
       i.follower_band,
       i.engagement_rate_percentile,
       i.popularity_interactions,
       i.popularity_median,
       i.amplification,
       i.coverage,
       i.ranked,
       CASE WHEN i.ranked THEN
           RANK() OVER (PARTITION BY i.indicator_date, a.category, i.ranked ORDER BY COALESCE(i.engagement, 0) DESC)
       END AS engagement_rank,
       CASE WHEN COALESCE(i.accounts_by_export, 0) = 0 THEN 'api'
            WHEN i.accounts_by_export = i.accounts_collected THEN 'export'
            ELSE 'api+export'
       END AS data_source                         -- where the agency's numbers of the day come from
FROM agency_daily_indicators i
JOIN dim_agency a ON a.agency_code = i.agency_code
WHERE i.platform = 'all';
