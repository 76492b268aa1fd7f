-- Posts named by an export file. A post the API already described keeps the API's description (exact
-- publication time, text); the export only widens the first day it was seen (its last seen day is its latest
-- snapshot: view post_last_seen, migration 013).
INSERT INTO dim_post (platform, platform_post_id, account_key, published_at, published_on, post_type,
                      title, text, hashtags, url, referenced_post_id, reference_kind, text_repairs,
                      is_deleted, deleted_seen_on, first_seen_on)
SELECT platform, platform_post_id, account_key, published_at, published_on, post_type,
       title, text, hashtags, url, referenced_post_id, reference_kind, text_repairs, FALSE, NULL, CAST(:snapshot_date AS DATE)
FROM stg_posts
ON CONFLICT (platform, platform_post_id) DO UPDATE SET
    first_seen_on = LEAST(dim_post.first_seen_on, excluded.first_seen_on)
WHERE dim_post.first_seen_on > excluded.first_seen_on;
