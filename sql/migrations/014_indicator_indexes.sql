-- only: postgresql
-- 014: the indicator models read one day (or a few) of tables that keep every day (issue 11: a year of history).
-- Their primary keys lead with the account or the post, so PostgreSQL could only scan the whole table for a day;
-- each index below lets it read the day's rows. DuckDB skips this migration: its min/max zone maps on these columns
-- (rows arrive night by night) already skip the other days, and an ART index it would not use for a day's
-- thousands of rows would only slow the loads.
-- (013 is dim_post's migration on another branch.)
CREATE INDEX fact_post_metrics_daily_by_day ON fact_post_metrics_daily (snapshot_date);
CREATE INDEX fact_post_daily_increase_by_day ON fact_post_daily_increase (snapshot_date);
CREATE INDEX dim_post_by_published_on ON dim_post (published_on);
CREATE INDEX dim_post_by_reference ON dim_post (platform, referenced_post_id) WHERE referenced_post_id IS NOT NULL;
CREATE INDEX fact_account_daily_by_day ON fact_account_daily (snapshot_date);
CREATE INDEX etl_account_coverage_by_day ON etl_account_coverage (snapshot_date);
CREATE INDEX fact_news_mention_by_published_on ON fact_news_mention (published_on);
CREATE INDEX agency_daily_indicators_by_day ON agency_daily_indicators (indicator_date, platform);
CREATE INDEX campaign_post_by_published_on ON campaign_post (published_on);
CREATE INDEX agency_campaign_daily_by_day ON agency_campaign_daily (indicator_date);
CREATE INDEX agency_campaign_standings_by_day ON agency_campaign_standings (as_of_date);
