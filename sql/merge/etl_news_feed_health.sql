-- One row per feed: the state after its latest fetch (computed by etl.news.pipeline from the previous row).
INSERT INTO etl_news_feed_health (feed_url, outlet_code, last_status, last_http_status, last_checked_at, last_success_at,
                                  last_new_item_at, consecutive_failures, is_disabled, disabled_reason, etag,
                                  last_modified, items_last_fetch, new_items_last_fetch, problems_last_fetch, last_problem)
SELECT feed_url, outlet_code, last_status, last_http_status, last_checked_at, last_success_at, last_new_item_at,
       consecutive_failures, is_disabled, disabled_reason, etag, last_modified, items_last_fetch, new_items_last_fetch,
       problems_last_fetch, last_problem
FROM stg_news_feed_health
ON CONFLICT (feed_url) DO UPDATE SET
    outlet_code          = excluded.outlet_code,
    last_status          = excluded.last_status,
    last_http_status     = excluded.last_http_status,
    last_checked_at      = excluded.last_checked_at,
    last_success_at      = excluded.last_success_at,
    last_new_item_at     = excluded.last_new_item_at,
    consecutive_failures = excluded.consecutive_failures,
    is_disabled          = excluded.is_disabled,
    disabled_reason      = excluded.disabled_reason,
    etag                 = excluded.etag,
    last_modified        = excluded.last_modified,
    items_last_fetch     = excluded.items_last_fetch,
    new_items_last_fetch = excluded.new_items_last_fetch,
    problems_last_fetch  = excluded.problems_last_fetch,
    last_problem         = excluded.last_problem;
