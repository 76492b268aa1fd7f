-- 013: a post's last seen day is derived, not stored (issue 11).
-- dim_post.last_seen_on moved every night for every live post, so the nightly merge rewrote each row of the widest
-- table: on PostgreSQL a whole new tuple per post (MVCC), about twice a COPY's work. A post seen on a day has its
-- snapshot in fact_post_metrics_daily for that day (parsers emit both; metrics follow their post to quarantine),
-- so the day is read from there. first_seen_on stays: it only moves when an earlier day is loaded (a backfill).
--   post_last_seen   platform, platform_post_id, last_seen_on: the latest snapshot day of the post, and never before
--                    the day it was first seen (a post without any stored snapshot was seen on first_seen_on)

ALTER TABLE dim_post DROP COLUMN last_seen_on;

CREATE VIEW post_last_seen AS
SELECT p.platform,
       p.platform_post_id,
       GREATEST(p.first_seen_on, MAX(f.snapshot_date)) AS last_seen_on
FROM dim_post p
LEFT JOIN fact_post_metrics_daily f ON f.platform = p.platform AND f.platform_post_id = p.platform_post_id
GROUP BY p.platform, p.platform_post_id, p.first_seen_on;
