-- Campaign hashtags and keywords, one per row, replaced as a set with the registry.
DELETE FROM campaign_term;
INSERT INTO campaign_term (campaign_code, term_kind, term)
SELECT DISTINCT campaign_code, term_kind, term FROM stg_campaign_terms;
