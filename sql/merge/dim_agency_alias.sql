-- Aliases are replaced as a set: an alias removed from the registry file leaves the table.
DELETE FROM dim_agency_alias;
INSERT INTO dim_agency_alias (agency_code, alias, kind, valid_from, valid_to)
SELECT agency_code, alias, kind, valid_from, valid_to FROM stg_agency_aliases;
