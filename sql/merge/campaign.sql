INSERT INTO campaign (campaign_code, name, theme, hashtags, keywords, starts_on, ends_on, is_sandbox)
SELECT campaign_code, name, theme, hashtags, keywords, starts_on, ends_on, is_sandbox FROM stg_campaigns
ON CONFLICT (campaign_code) DO UPDATE SET
    name = excluded.name,
    theme = excluded.theme,
    hashtags = excluded.hashtags,
    keywords = excluded.keywords,
    starts_on = excluded.starts_on,
    ends_on = excluded.ends_on,
    is_sandbox = excluded.is_sandbox;
