CREATE TEMPORARY TABLE stg_campaigns (
    campaign_code  VARCHAR,
    name           VARCHAR,
    theme          VARCHAR,
    hashtags       VARCHAR,
    keywords       VARCHAR,
    starts_on      DATE,
    ends_on        DATE,
    is_sandbox     BOOLEAN
);
