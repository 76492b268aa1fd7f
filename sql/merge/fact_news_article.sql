-- An article is keyed by its canonical URL: a second sighting (another feed, GDELT, a rerun) only refreshes
-- last_seen_at and fills what was missing; the first sighting's URL, outlet, date and cluster stay, so
-- reruns and overlapping windows leave the same rows.
INSERT INTO fact_news_article (article_id, canonical_url, url, outlet_code, source, published_at, published_on,
                               published_estimated, title, summary, language, cluster_id, duplicate_of, similarity,
                               sentiment, text_repairs, first_seen_at, last_seen_at)
SELECT article_id, canonical_url, url, outlet_code, source, published_at, published_on, published_estimated, title,
       summary, language, cluster_id, duplicate_of, similarity, sentiment, text_repairs, seen_at, seen_at
FROM stg_news_articles
ON CONFLICT (article_id) DO UPDATE SET
    summary       = COALESCE(fact_news_article.summary, excluded.summary),
    sentiment     = COALESCE(fact_news_article.sentiment, excluded.sentiment),
    first_seen_at = LEAST(fact_news_article.first_seen_at, excluded.first_seen_at),
    last_seen_at  = GREATEST(fact_news_article.last_seen_at, excluded.last_seen_at);
