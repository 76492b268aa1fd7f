-- 005: views for analysts and the HTML report. Plain SQL over the indicator tables; filter by date in the query.

CREATE VIEW report_daily_leaderboard AS
SELECT i.indicator_date,
       a.category,
       a.agency_code,
       a.name AS agency_name,
       i.posts_published,
       i.active_platforms,
       i.followers,
       i.follower_growth,
       i.engagement,
       i.views,
       i.engagement_rate,
       i.follower_band,
       i.engagement_rate_percentile,
       i.popularity_interactions,
       i.popularity_median,
       i.amplification,
       i.coverage,
       i.ranked,
       CASE WHEN i.ranked THEN
           RANK() OVER (PARTITION BY i.indicator_date, a.category, i.ranked ORDER BY COALESCE(i.engagement, 0) DESC)
       END AS engagement_rank
FROM agency_daily_indicators i
JOIN dim_agency a ON a.agency_code = i.agency_code
WHERE i.platform = 'all';

CREATE VIEW report_campaign_leaderboard AS
SELECT s.as_of_date,
       s.campaign_code,
       c.name AS campaign_name,
       c.is_sandbox AS campaign_is_sandbox,
       s.category,
       s.agency_code,
       a.name AS agency_name,
       s.rank_in_category,
       s.dissemination_score,
       s.days_active,
       s.campaign_posts,
       s.campaign_engagement,
       s.first_post_lag_days,
       s.mean_coverage,
       s.ranked,
       s.exclusion_reason
FROM agency_campaign_standings s
JOIN campaign c ON c.campaign_code = s.campaign_code
JOIN dim_agency a ON a.agency_code = s.agency_code;

CREATE VIEW report_agency_profile AS
SELECT i.agency_code,
       a.name AS agency_name,
       a.category,
       i.indicator_date,
       i.platform,
       i.posts_published,
       i.followers,
       i.follower_growth,
       i.engagement,
       i.views,
       i.engagement_rate,
       i.coverage
FROM agency_daily_indicators i
JOIN dim_agency a ON a.agency_code = i.agency_code;

CREATE VIEW report_data_completeness AS
SELECT c.snapshot_date,
       c.platform,
       c.status,
       COUNT(*) AS accounts,
       COUNT(DISTINCT ac.agency_code) AS agencies
FROM etl_account_coverage c
JOIN dim_account ac ON ac.account_key = c.account_key
GROUP BY c.snapshot_date, c.platform, c.status;
