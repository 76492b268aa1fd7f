-- News indicators of one day (:day) on the platform = 'all' rows of agency_daily_indicators.
-- Runs right after agency_daily_indicators.sql (which recreates the day's rows). Definitions (docs/indicators.md);
-- articles whose date could not be read (published_estimated) are left out of every figure:
--   news_mentions              unique stories naming the agency in any role (institution, head, deputy, unit) published
--                              on :day: distinct cluster_id over its mentions
--   news_mentions_institution  the same, over articles that name the institution itself (mention_role = 'institution')
--   news_copies                articles naming it on :day that are syndicated copies of another (duplicate_of IS NOT NULL)
--   news_outlets               distinct outlets of those articles (copies included)
--   news_sentiment             mean lexicon sentiment of the mentions' sentences (copies included), [-1, 1]
--   news_negative_mentions     articles (copies included) whose mention tone toward the agency is negative
--   news_positive_mentions     the same, positive
--   news_negative_share        news_negative_mentions over the articles with a tone (NULL when there are none);
--                              tone per mention, etl/news/tone.py, quality in etl_news_tone_quality
UPDATE agency_daily_indicators
SET news_mentions = 0, news_mentions_institution = 0, news_copies = 0, news_outlets = 0, news_sentiment = NULL,
    news_negative_mentions = 0, news_positive_mentions = 0, news_negative_share = NULL
WHERE indicator_date = :day AND platform = 'all';

UPDATE agency_daily_indicators
SET news_mentions             = n.stories,
    news_mentions_institution = n.institution_stories,
    news_copies               = n.copies,
    news_outlets              = n.outlets,
    news_sentiment            = n.sentiment,
    news_negative_mentions    = n.negative,
    news_positive_mentions    = n.positive,
    news_negative_share       = n.negative_share
FROM (
    SELECT m.agency_code,
           COUNT(DISTINCT a.cluster_id) AS stories,
           COUNT(DISTINCT CASE WHEN m.mention_role = 'institution' THEN a.cluster_id END) AS institution_stories,
           SUM(CASE WHEN a.duplicate_of IS NOT NULL THEN 1 ELSE 0 END) AS copies,
           COUNT(DISTINCT a.outlet_code) AS outlets,
           CAST(ROUND(CAST(AVG(m.sentiment) AS NUMERIC(24, 10)), 6) AS DOUBLE PRECISION) AS sentiment,  -- rounded: parallel sums differ in the last bits
           SUM(CASE WHEN m.tone = 'negative' THEN 1 ELSE 0 END) AS negative,
           SUM(CASE WHEN m.tone = 'positive' THEN 1 ELSE 0 END) AS positive,
           CAST(ROUND(CAST(AVG(CASE WHEN m.tone = 'negative' THEN 1.0 WHEN m.tone IS NOT NULL THEN 0.0 END) AS NUMERIC(24, 10)), 6)
                AS DOUBLE PRECISION) AS negative_share
    FROM fact_news_mention m
    JOIN fact_news_article a ON a.article_id = m.article_id
    WHERE m.published_on = :day
      AND a.published_estimated = FALSE  -- no readable date: the day is a guess, never counted
    GROUP BY m.agency_code
) n
WHERE agency_daily_indicators.agency_code = n.agency_code
  AND agency_daily_indicators.indicator_date = :day
  AND agency_daily_indicators.platform = 'all';
