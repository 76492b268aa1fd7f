-- The ten ministries with the highest engagement rate over the last 7 days of data:
-- the mean of their daily engagement per 1,000 followers, over the days they could be ranked (coverage >= 80%).
SELECT a.name,
       ROUND(CAST(AVG(i.engagement_rate) AS NUMERIC), 1) AS engagement_per_1000_followers,
       COUNT(*) AS days_ranked,
       ROUND(CAST(AVG(i.coverage) AS NUMERIC), 2) AS mean_coverage
FROM agency_daily_indicators i
JOIN dim_agency a ON a.agency_code = i.agency_code
WHERE i.platform = 'all'
  AND a.category = 'kementerian'
  AND i.ranked
  AND i.indicator_date > (SELECT MAX(indicator_date) FROM agency_daily_indicators) - 7
GROUP BY a.name
ORDER BY engagement_per_1000_followers DESC, a.name
LIMIT 10;
