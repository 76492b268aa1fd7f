-- Posts asked for by id that the platform no longer serves: flagged, never removed. A deletion already noted on
-- that day or earlier is left as it is (a rerun writes nothing).
-- Not when the post was seen on that day or later (a later day loaded first): seen = first seen, or a snapshot
-- stored for the day (the post_last_seen view's rule, probed through fact_post_metrics_daily's key).
UPDATE dim_post
SET is_deleted = TRUE,
    deleted_seen_on = CASE
        WHEN dim_post.deleted_seen_on IS NULL OR dim_post.deleted_seen_on > stg_post_deletions.snapshot_date
        THEN stg_post_deletions.snapshot_date ELSE dim_post.deleted_seen_on END
FROM stg_post_deletions
WHERE dim_post.platform = stg_post_deletions.platform
  AND dim_post.platform_post_id = stg_post_deletions.platform_post_id
  AND (dim_post.deleted_seen_on IS NULL OR dim_post.deleted_seen_on > stg_post_deletions.snapshot_date)
  AND dim_post.first_seen_on < stg_post_deletions.snapshot_date
  AND NOT EXISTS (
      SELECT 1 FROM fact_post_metrics_daily f
      WHERE f.platform = stg_post_deletions.platform
        AND f.platform_post_id = stg_post_deletions.platform_post_id
        AND f.snapshot_date >= stg_post_deletions.snapshot_date
  );
