-- only: postgresql
-- 015: fact_post_daily_increase's primary key leads with the day (issue 11: a year of history).
-- The table is written one day at a time (sql/indicators/post_daily_increase.sql) and read by day, joined on the post
-- within the day. Keyed (platform, platform_post_id, snapshot_date), each night's million new rows went into the
-- key's index at a million scattered places, a page read and dirtied for nearly every row once the index outgrew
-- memory; keyed by the day first, they are appended at its end. The key then serves the day's reads too, so 014's
-- index on the day goes. DuckDB gets the same key from 016.
-- Building the key over a year of rows takes minutes and locks the table meanwhile: run `pantau migrate` outside the
-- nightly window. The warehouse's statement timeout is for nightly statements, not this one.
SET LOCAL statement_timeout = 0;
SET LOCAL maintenance_work_mem = '1GB';

ALTER TABLE fact_post_daily_increase
    DROP CONSTRAINT fact_post_daily_increase_pkey,
    ADD PRIMARY KEY (snapshot_date, platform, platform_post_id);

DROP INDEX fact_post_daily_increase_by_day;
