-- campaign_post for posts published on :day: every post (all layers) inside a campaign's period that carries one
-- of its hashtags or mentions one of its keywords (case-insensitive). A post can belong to several campaigns.
DELETE FROM campaign_post WHERE published_on = :day;

INSERT INTO campaign_post (campaign_code, platform, platform_post_id, account_key, agency_code, layer, published_on, matched_term)
SELECT c.campaign_code, p.platform, p.platform_post_id, p.account_key, a.agency_code, a.layer, p.published_on,
       MIN(t.term_kind || ':' || t.term)  -- hashtags before keywords, whatever the collation
FROM dim_post p
JOIN dim_account a ON a.account_key = p.account_key
JOIN campaign c ON p.published_on BETWEEN c.starts_on AND c.ends_on
JOIN campaign_term t ON t.campaign_code = c.campaign_code
WHERE p.published_on = :day
  AND (
        (t.term_kind = 'hashtag' AND '|' || COALESCE(p.hashtags, '') || '|' LIKE '%|' || t.term || '|%')
     OR (t.term_kind = 'keyword'
         AND LOWER(COALESCE(p.title, '') || ' ' || COALESCE(p.text, '')) LIKE '%' || LOWER(t.term) || '%')
  )
GROUP BY c.campaign_code, p.platform, p.platform_post_id, p.account_key, a.agency_code, a.layer, p.published_on;
