-- Posts seen on :snapshot_date. first_seen_on widens whatever order days are loaded in (backfills), and a
-- deletion seen on a later day is kept when an earlier day is re-run. The last day a post was seen is not
-- stored (migration 013, view post_last_seen): a normal night changes nothing in a known post's row.
-- Rows whose values are unchanged are not rewritten (a rerun of a night writes nothing: issue 11).
INSERT INTO dim_post (platform, platform_post_id, account_key, published_at, published_on, post_type,
                      title, text, hashtags, url, referenced_post_id, reference_kind, text_repairs,
                      is_deleted, deleted_seen_on, first_seen_on)
SELECT platform, platform_post_id, account_key, published_at, published_on, post_type,
       title, text, hashtags, url, referenced_post_id, reference_kind, text_repairs, FALSE, NULL, CAST(:snapshot_date AS DATE)
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
    is_deleted         = CASE WHEN dim_post.deleted_seen_on > CAST(:snapshot_date AS DATE) THEN TRUE ELSE FALSE END,
    deleted_seen_on    = CASE WHEN dim_post.deleted_seen_on > CAST(:snapshot_date AS DATE) THEN dim_post.deleted_seen_on END,
    first_seen_on      = LEAST(dim_post.first_seen_on, excluded.first_seen_on)
WHERE dim_post.account_key IS DISTINCT FROM excluded.account_key
   OR dim_post.published_at IS DISTINCT FROM excluded.published_at
   OR dim_post.published_on IS DISTINCT FROM excluded.published_on
   OR dim_post.post_type IS DISTINCT FROM excluded.post_type
   OR dim_post.title IS DISTINCT FROM excluded.title
   OR dim_post.text IS DISTINCT FROM excluded.text
   OR dim_post.hashtags IS DISTINCT FROM excluded.hashtags
   OR dim_post.url IS DISTINCT FROM excluded.url
   OR dim_post.referenced_post_id IS DISTINCT FROM excluded.referenced_post_id
   OR dim_post.reference_kind IS DISTINCT FROM excluded.reference_kind
   OR dim_post.text_repairs IS DISTINCT FROM excluded.text_repairs
   OR dim_post.is_deleted IS DISTINCT FROM (CASE WHEN dim_post.deleted_seen_on > CAST(:snapshot_date AS DATE) THEN TRUE ELSE FALSE END)
   OR dim_post.deleted_seen_on IS DISTINCT FROM (CASE WHEN dim_post.deleted_seen_on > CAST(:snapshot_date AS DATE) THEN dim_post.deleted_seen_on END)
   OR dim_post.first_seen_on > excluded.first_seen_on;
