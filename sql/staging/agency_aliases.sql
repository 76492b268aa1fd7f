CREATE TEMPORARY TABLE stg_agency_aliases (
    agency_code  VARCHAR,
    alias        VARCHAR,
    kind         VARCHAR,
    valid_from   DATE,
    valid_to     DATE
);
