-- Issue 9: hostile input never loses a night.
-- Text repaired at parse time (NUL removed, lone UTF-16 surrogates replaced): what was repaired, per row.
ALTER TABLE dim_post ADD COLUMN text_repairs VARCHAR;
ALTER TABLE fact_news_article ADD COLUMN text_repairs VARCHAR;

-- Quarantine keyed by part (shard) too: rows without a natural key carry a hash of their raw record, and two
-- shards of one source and day never overwrite each other's rows. DuckDB cannot change a primary key in place.
CREATE TABLE etl_quarantine_009 (
    data_date            DATE NOT NULL,
    source               VARCHAR NOT NULL,
    frame                VARCHAR NOT NULL,
    part                 VARCHAR NOT NULL,        -- the landing part (shard) the row came from
    record_key           VARCHAR NOT NULL,        -- the row's natural key, or record:<hash of the raw record> without one
    run_id               VARCHAR NOT NULL,
    account              VARCHAR,
    failed_expectations  VARCHAR NOT NULL,        -- JSON list of expectation(column)
    parse_issue          VARCHAR,
    record               VARCHAR,                 -- the raw item as received (JSON)
    landing_file         VARCHAR,
    PRIMARY KEY (data_date, source, frame, part, record_key)
);
INSERT INTO etl_quarantine_009
SELECT data_date, source, frame, part, record_key, run_id, account, failed_expectations, parse_issue, record, landing_file
FROM etl_quarantine;
DROP TABLE etl_quarantine;
ALTER TABLE etl_quarantine_009 RENAME TO etl_quarantine;
