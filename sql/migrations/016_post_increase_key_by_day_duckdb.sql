-- only: duckdb
-- 016: fact_post_daily_increase's primary key leads with the day, as 015 does on PostgreSQL (issue 11). DuckDB cannot
-- change a table's primary key, so the table is rebuilt, its columns in the same order. Its ART index then takes
-- each night's keys side by side instead of checking and inserting a million keys scattered across a year of them.
CREATE TABLE fact_post_daily_increase_by_day (
    platform          VARCHAR NOT NULL,
    platform_post_id  VARCHAR NOT NULL,
    snapshot_date     DATE NOT NULL,
    account_key       VARCHAR NOT NULL,
    engagement        BIGINT,                      -- increase of likes+comments+shares+quotes+saves since the previous snapshot
    views             BIGINT,                      -- NULL: baseline unknown (old post seen for the first time)
    PRIMARY KEY (snapshot_date, platform, platform_post_id)
);

INSERT INTO fact_post_daily_increase_by_day (platform, platform_post_id, snapshot_date, account_key, engagement, views)
SELECT platform, platform_post_id, snapshot_date, account_key, engagement, views
FROM fact_post_daily_increase
ORDER BY snapshot_date, platform, platform_post_id;

DROP TABLE fact_post_daily_increase;

ALTER TABLE fact_post_daily_increase_by_day RENAME TO fact_post_daily_increase;
