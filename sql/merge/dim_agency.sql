-- The agency registry; rows are updated in place (the registry file is the source of truth).
INSERT INTO dim_agency (agency_code, name, short_name, category, parent_agency_code, region_code)
SELECT agency_code, name, short_name, category, parent_agency_code, region_code FROM stg_agencies
ON CONFLICT (agency_code) DO UPDATE SET
    name = excluded.name,
    short_name = excluded.short_name,
    category = excluded.category,
    parent_agency_code = excluded.parent_agency_code,
    region_code = excluded.region_code;
