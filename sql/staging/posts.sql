CREATE TEMPORARY TABLE stg_posts (
    platform            VARCHAR,
    platform_post_id    VARCHAR,
    account_key         VARCHAR,
    published_at        TIMESTAMP,
    published_on        DATE,
    post_type           VARCHAR,
    title               VARCHAR,
    text                VARCHAR,
    hashtags            VARCHAR,
    url                 VARCHAR,
    referenced_post_id  VARCHAR,
    reference_kind      VARCHAR,
    text_repairs        VARCHAR
);
