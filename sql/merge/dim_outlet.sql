-- Outlets seen in a run; the registry's name and province win over a GDELT domain.
INSERT INTO dim_outlet (outlet_code, name, domain, province_code, first_seen_on, last_seen_on)
SELECT outlet_code, name, domain, province_code, seen_on, seen_on
FROM stg_news_outlets
ON CONFLICT (outlet_code) DO UPDATE SET
    name          = excluded.name,
    domain        = COALESCE(excluded.domain, dim_outlet.domain),
    province_code = COALESCE(excluded.province_code, dim_outlet.province_code),
    first_seen_on = LEAST(dim_outlet.first_seen_on, excluded.first_seen_on),
    last_seen_on  = GREATEST(dim_outlet.last_seen_on, excluded.last_seen_on);
