-- Posts seen on :snapshot_date. first/last_seen_on widen whatever order days are loaded in
-- (backfills), and a deletion seen on a later day is kept when an earlier day is re-run.
INSERT INTO dim_post (platform, platform_post_id, account_key, published_at, published_on, post_type,
                      title, text, hashtags, url, referenced_post_id, reference_kind, text_repairs,
                      is_deleted, deleted_seen_on, first_seen_on, last_seen_on)
SELECT platform, platform_post_id, account_key, published_at, published_on, post_type,
       title, text, hashtags, url, referenced_post_id, reference_kind, text_repairs, FALSE, NULL, CAST(:snapshot_date AS DATE), CAST(:snapshot_date AS DATE)
FROM stg_posts
ON CONFLICT (platform, platform_post_id) DO UPDATE SET
    account_key        = excluded.account_key,
    published_at       = excluded.published_at,
    published_on       = excluded.published_on,
    post_type          = excluded.post_type,
    title              = excluded.title,
    text               = excluded.text,
    hashtags           = excluded.hashtags,
    url                = excluded.url,
    referenced_post_id = excluded.referenced_post_id,
    reference_kind     = excluded.reference_kind,
    text_repairs       = excluded.text_repairs,
    is_deleted         = CASE WHEN dim_post.deleted_seen_on > excluded.last_seen_on THEN TRUE ELSE FALSE END,
    deleted_seen_on    = CASE WHEN dim_post.deleted_seen_on > excluded.last_seen_on THEN dim_post.deleted_seen_on END,
    first_seen_on      = LEAST(dim_post.first_seen_on, excluded.first_seen_on),
    last_seen_on       = GREATEST(dim_post.last_seen_on, excluded.last_seen_on);
