-- The mentions of the staged articles replace theirs: matching an article again (new aliases, a fixed
-- registry) must also remove the agencies it no longer names.
DELETE FROM fact_news_mention WHERE article_id IN (SELECT DISTINCT article_id FROM stg_news_mentions);
INSERT INTO fact_news_mention (article_id, agency_code, published_on, alias, position, mentions, confidence, method, sentiment,
                               mention_role, roles, unit_words, tone, tone_score, tone_method)
SELECT article_id, agency_code, published_on, alias, position, mentions, confidence, method, sentiment,
       mention_role, roles, unit_words, tone, tone_score, tone_method
FROM stg_news_mentions
WHERE agency_code IS NOT NULL;
