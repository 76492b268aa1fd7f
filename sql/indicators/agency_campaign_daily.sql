-- agency_campaign_daily for :day, for every campaign running on :day and every agency with a campaign post so far:
--   campaign_posts       campaign posts the agency's accounts (all layers) published on :day
--   campaign_engagement  engagement earned on :day by all the agency's campaign posts (fact_post_daily_increase)
DELETE FROM agency_campaign_daily WHERE indicator_date = :day;

INSERT INTO agency_campaign_daily (campaign_code, agency_code, indicator_date, campaign_posts, campaign_engagement)
SELECT cp.campaign_code, cp.agency_code, CAST(:day AS DATE),
       SUM(CASE WHEN cp.published_on = :day THEN 1 ELSE 0 END),
       COALESCE(SUM(i.engagement), 0)
FROM campaign_post cp
JOIN campaign c ON c.campaign_code = cp.campaign_code AND CAST(:day AS DATE) BETWEEN c.starts_on AND c.ends_on
LEFT JOIN fact_post_daily_increase i
  ON i.platform = cp.platform AND i.platform_post_id = cp.platform_post_id AND i.snapshot_date = :day
WHERE cp.published_on <= :day
GROUP BY cp.campaign_code, cp.agency_code;
