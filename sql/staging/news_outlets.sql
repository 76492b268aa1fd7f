CREATE TEMPORARY TABLE stg_news_outlets (
    outlet_code    VARCHAR,
    name           VARCHAR,
    domain         VARCHAR,
    province_code  VARCHAR,
    seen_on        DATE
);
