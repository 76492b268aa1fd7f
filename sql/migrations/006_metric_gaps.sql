-- 006: why a metric is NULL. Platforms stop serving metrics (hidden likes, comments turned off,
-- a field a newer Graph API version no longer has); the snapshot keeps the row and says which
-- metrics were not served and why, as "metric=reason; metric2=reason2" sorted by metric.
-- NULL = every metric that is NULL was simply not asked for on that platform (no reason recorded).

ALTER TABLE fact_post_metrics_daily ADD COLUMN unavailable_metrics VARCHAR;
