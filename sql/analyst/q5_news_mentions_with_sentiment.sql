-- News that named one agency (KEM-KOMDIGI, also under its former name Kominfo), newest first, with the sentiment
-- of the sentences naming it (-1 .. +1); syndicated copies are left out.
SELECT m.published_on,
       o.name AS outlet,
       n.title,
       m.alias,
       ROUND(CAST(m.sentiment AS NUMERIC), 2) AS sentiment
FROM fact_news_mention m
JOIN fact_news_article n ON n.article_id = m.article_id
LEFT JOIN dim_outlet o ON o.outlet_code = n.outlet_code
WHERE m.agency_code = 'KEM-KOMDIGI'
  AND n.duplicate_of IS NULL
ORDER BY m.published_on DESC, n.title;
