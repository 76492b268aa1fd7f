CREATE TEMPORARY TABLE stg_news_feed_health (
    feed_url              VARCHAR,
    outlet_code           VARCHAR,
    last_status           VARCHAR,
    last_http_status      INTEGER,
    last_checked_at       TIMESTAMP,
    last_success_at       TIMESTAMP,
    last_new_item_at      TIMESTAMP,
    consecutive_failures  INTEGER,
    is_disabled           BOOLEAN,
    disabled_reason       VARCHAR,
    etag                  VARCHAR,
    last_modified         VARCHAR,
    items_last_fetch      INTEGER,
    new_items_last_fetch  INTEGER,
    problems_last_fetch   INTEGER,
    last_problem          VARCHAR
);
