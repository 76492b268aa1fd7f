-- Agencies whose data was less than 80% complete on the latest day, and why: accounts per platform and collection status.
SELECT a.name,
       i.coverage,
       c.platform,
       c.status,
       COUNT(*) AS accounts,
       MIN(c.message) AS example_message
FROM agency_daily_indicators i
JOIN dim_agency a ON a.agency_code = i.agency_code
JOIN dim_account ac ON ac.agency_code = i.agency_code
JOIN etl_account_coverage c ON c.account_key = ac.account_key AND c.snapshot_date = i.indicator_date
WHERE i.platform = 'all'
  AND i.coverage < 0.8
  AND c.status <> 'ok'
  AND i.indicator_date = (SELECT MAX(indicator_date) FROM agency_daily_indicators)
GROUP BY a.name, i.coverage, c.platform, c.status
ORDER BY i.coverage, a.name, c.platform, c.status;
