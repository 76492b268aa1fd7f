CREATE TEMPORARY TABLE stg_agencies (
    agency_code         VARCHAR,
    name                VARCHAR,
    short_name          VARCHAR,
    category            VARCHAR,
    parent_agency_code  VARCHAR,
    region_code         VARCHAR
);
