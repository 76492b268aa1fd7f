-- News indicators of one day (:day) on the platform = 'all' rows of agency_daily_indicators.
-- Runs right after agency_daily_indicators.sql (which recreates the day's rows). Definitions (docs/indicators.md);
-- articles whose date could not be read (published_estimated) are left out of every figure:
--   news_mentions        unique stories naming the agency published on :day: distinct cluster_id over its mentions
--   news_copies          articles naming it on :day that are syndicated copies of another (duplicate_of IS NOT NULL)
--   news_outlets         distinct outlets of those articles (copies included)
--   news_sentiment       mean mention sentiment over those articles (copies included: each is a reader's view), [-1, 1]
--   news_negative_share  share of those mentions with sentiment < -0.05 (NULL when there are none)
UPDATE agency_daily_indicators
SET news_mentions = 0, news_copies = 0, news_outlets = 0, news_sentiment = NULL, news_negative_share = NULL
WHERE indicator_date = :day AND platform = 'all';

UPDATE agency_daily_indicators
SET news_mentions       = n.stories,
    news_copies         = n.copies,
    news_outlets        = n.outlets,
    news_sentiment      = n.sentiment,
    news_negative_share = n.negative_share
FROM (
    SELECT m.agency_code,
           COUNT(DISTINCT a.cluster_id) AS stories,
           SUM(CASE WHEN a.duplicate_of IS NOT NULL THEN 1 ELSE 0 END) AS copies,
           COUNT(DISTINCT a.outlet_code) AS outlets,
           CAST(ROUND(CAST(AVG(m.sentiment) AS NUMERIC(24, 10)), 6) AS DOUBLE PRECISION) AS sentiment,  -- rounded: parallel sums differ in the last bits
           CAST(ROUND(CAST(AVG(CASE WHEN m.sentiment < -0.05 THEN 1.0 ELSE 0.0 END) AS NUMERIC(24, 10)), 6) AS DOUBLE PRECISION) AS negative_share
    FROM fact_news_mention m
    JOIN fact_news_article a ON a.article_id = m.article_id
    WHERE m.published_on = :day
      AND a.published_estimated = FALSE  -- no readable date: the day is a guess, never counted
    GROUP BY m.agency_code
) n
WHERE agency_daily_indicators.agency_code = n.agency_code
  AND agency_daily_indicators.indicator_date = :day
  AND agency_daily_indicators.platform = 'all';
