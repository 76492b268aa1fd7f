-- One province's trend, day by day, all platforms together (PROV-31: DKI Jakarta).
SELECT i.indicator_date,
       i.posts_published,
       i.followers,
       i.engagement,
       ROUND(CAST(i.engagement_rate AS NUMERIC), 1) AS engagement_rate,
       i.coverage
FROM agency_daily_indicators i
WHERE i.agency_code = 'PROV-31'
  AND i.platform = 'all'
ORDER BY i.indicator_date;
