CREATE TEMPORARY TABLE stg_campaign_terms (
    campaign_code  VARCHAR,
    term_kind      VARCHAR,
    term           VARCHAR
);
