-- Posts asked for by id that the platform no longer serves: flagged, never removed.
UPDATE dim_post
SET is_deleted = TRUE,
    deleted_seen_on = CASE
        WHEN dim_post.deleted_seen_on IS NULL OR dim_post.deleted_seen_on > stg_post_deletions.snapshot_date
        THEN stg_post_deletions.snapshot_date ELSE dim_post.deleted_seen_on END
FROM stg_post_deletions
WHERE dim_post.platform = stg_post_deletions.platform
  AND dim_post.platform_post_id = stg_post_deletions.platform_post_id
  AND dim_post.last_seen_on < stg_post_deletions.snapshot_date;
