-- A comparison fair to small accounts, for :day. Runs after agency_daily_indicators.sql.
--   follower_band               by the official accounts' followers that day:
--                               'lt_1k' < 1,000 <= '1k_10k' < 10,000 <= '10k_100k' < 100,000 <= '100k_1m' < 1,000,000 <= 'ge_1m'
--   ranked                      TRUE when the agency may be ranked that day: coverage >= 0.8 and followers known.
--                               Below 80% of its accounts collected a number says more about the collection than the agency.
--   engagement_rate_percentile  CUME_DIST of engagement_rate among ranked agencies of the same category, follower band
--                               and platform scope (1.0 = the highest; ties share a value); NULL when not ranked
UPDATE agency_daily_indicators
SET follower_band = CASE
        WHEN followers IS NULL THEN NULL
        WHEN followers < 1000 THEN 'lt_1k'
        WHEN followers < 10000 THEN '1k_10k'
        WHEN followers < 100000 THEN '10k_100k'
        WHEN followers < 1000000 THEN '100k_1m'
        ELSE 'ge_1m'
    END,
    ranked = (coverage IS NOT NULL AND coverage >= 0.8 AND followers IS NOT NULL AND engagement_rate IS NOT NULL),
    engagement_rate_percentile = NULL
WHERE indicator_date = :day;

UPDATE agency_daily_indicators
SET engagement_rate_percentile = standing.percentile
FROM (
    SELECT i.agency_code, i.platform,
           CUME_DIST() OVER (PARTITION BY a.category, i.follower_band, i.platform ORDER BY i.engagement_rate) AS percentile
    FROM agency_daily_indicators i
    JOIN dim_agency a ON a.agency_code = i.agency_code
    WHERE i.indicator_date = :day AND i.ranked
) AS standing
WHERE agency_daily_indicators.indicator_date = :day
  AND agency_daily_indicators.agency_code = standing.agency_code
  AND agency_daily_indicators.platform = standing.platform;
