CREATE TEMPORARY TABLE stg_news_mentions (
    article_id    VARCHAR,
    agency_code   VARCHAR,
    published_on  DATE,
    alias         VARCHAR,
    position      INTEGER,
    mentions      INTEGER,
    confidence    DOUBLE PRECISION,
    method        VARCHAR,
    sentiment     DOUBLE PRECISION,
    mention_role  VARCHAR,
    roles         VARCHAR,
    unit_words    VARCHAR,
    tone          VARCHAR,
    tone_score    DOUBLE PRECISION,
    tone_method   VARCHAR
);
