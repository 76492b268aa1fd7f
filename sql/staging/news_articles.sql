CREATE TEMPORARY TABLE stg_news_articles (
    article_id           VARCHAR,
    canonical_url        VARCHAR,
    url                  VARCHAR,
    outlet_code          VARCHAR,
    source               VARCHAR,
    published_at         TIMESTAMP,
    published_on         DATE,
    published_estimated  BOOLEAN,
    title                VARCHAR,
    summary              VARCHAR,
    language             VARCHAR,
    cluster_id           VARCHAR,
    duplicate_of         VARCHAR,
    similarity           DOUBLE PRECISION,
    sentiment            DOUBLE PRECISION,
    seen_at              TIMESTAMP,
    text_repairs         VARCHAR
);
