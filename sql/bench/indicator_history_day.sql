-- One night of the indicator benchmark's history (scripts/bench_indicators.py), as the loader would have left it.
-- Parameters: :on (the night's day), :first_day, :day (the day whose indicators are timed), CAST(:per_day AS BIGINT) (posts published a
-- day), CAST(:accounts AS BIGINT), CAST(:agencies AS BIGINT), CAST(:articles AS BIGINT) (news articles a day), CAST(:from_offset AS BIGINT)..CAST(:to_offset AS BIGINT) (the publication days, as offsets
-- from :first_day, of the posts first seen this night: the 29 days before as well on the first night).
-- Post k of publication day d is account k % CAST(:accounts AS BIGINT)'s, id (d + 29) * CAST(:per_day AS BIGINT) + k; it is re-pulled on each of the 30
-- days from its publication (age 0..29), so every night holds 30 x CAST(:per_day AS BIGINT) snapshots. Every tenth post carries the
-- hashtag of the campaign running when it was published, every 25th its keyword; the layer 1-3 X accounts repost every
-- third post of their agency's official X account.
INSERT INTO dim_post (platform, platform_post_id, account_key, published_at, published_on, post_type, title, text,
                      hashtags, url, is_deleted, deleted_seen_on, first_seen_on, referenced_post_id,
                      reference_kind, text_repairs)
SELECT b.platform, 'p' || LPAD(CAST((d + 29) * CAST(:per_day AS BIGINT) + k AS VARCHAR), 10, '0'), b.account_key,
       CAST(CAST(:first_day AS DATE) + CAST(d AS INTEGER) AS TIMESTAMP) + (k % 43200) * INTERVAL '1 second',
       CAST(:first_day AS DATE) + CAST(d AS INTEGER), 'post', 'Kabar ' || CAST(k AS VARCHAR),
       CASE WHEN k % 25 = 0 AND d >= 0 AND d % 30 < 20
            THEN 'Hari ini program ' || CAST(CAST(FLOOR(d / 30.0) AS INTEGER) AS VARCHAR) || ' berjalan'
            ELSE 'Pelayanan publik hari ini' END,
       CASE WHEN k % 10 = 0 AND d >= 0 AND d % 30 < 20
            THEN 'indonesia|kampanye' || CAST(CAST(FLOOR(d / 30.0) AS INTEGER) AS VARCHAR)
            ELSE 'indonesia' END,
       'https://example.org/p/' || CAST((d + 29) * CAST(:per_day AS BIGINT) + k AS VARCHAR), FALSE, NULL,
       CASE WHEN d < 0 THEN CAST(:first_day AS DATE) ELSE CAST(:first_day AS DATE) + CAST(d AS INTEGER) END,
       CASE WHEN b.platform = 'x' AND b.layer > 0 AND k % 3 = 0
            THEN 'p' || LPAD(CAST((d + 29) * CAST(:per_day AS BIGINT) + k - b.slot + 3 AS VARCHAR), 10, '0') END,
       CASE WHEN b.platform = 'x' AND b.layer > 0 AND k % 3 = 0 THEN 'repost' END,
       NULL
FROM generate_series(CAST(:from_offset AS INTEGER), CAST(:to_offset AS INTEGER)) AS days(d)
CROSS JOIN generate_series(0, CAST(:per_day AS INTEGER) - 1) AS posts(k)
JOIN bench_account b ON b.account_no = k % CAST(:accounts AS BIGINT);

INSERT INTO fact_post_metrics_daily (platform, platform_post_id, snapshot_date, account_key, captured_at, likes, comments,
                                     shares, views, saves, quotes, unavailable_metrics, source, export_file, export_hash)
SELECT b.platform, 'p' || LPAD(CAST((CAST(:to_offset AS BIGINT) - age + 29) * CAST(:per_day AS BIGINT) + k AS VARCHAR), 10, '0'), CAST(:on AS DATE),
       b.account_key, CAST(CAST(:on AS DATE) AS TIMESTAMP) + INTERVAL '18 hours' + (k % 3600) * INTERVAL '1 second',
       k % 997 + 3 * age, k % 53 + age,
       CASE WHEN b.platform IN ('facebook', 'x', 'tiktok') THEN k % 31 + age END,
       k % 100000 + 50 * age,
       CASE WHEN b.platform IN ('instagram', 'tiktok') THEN k % 17 + age END,
       CASE WHEN b.platform = 'x' THEN k % 7 END,
       NULL, 'api', NULL, NULL
FROM generate_series(0, 29) AS ages(age)
CROSS JOIN generate_series(0, CAST(:per_day AS INTEGER) - 1) AS posts(k)
JOIN bench_account b ON b.account_no = k % CAST(:accounts AS BIGINT);

INSERT INTO fact_account_daily (account_key, snapshot_date, captured_at, followers, following, total_posts, total_views,
                                source, export_file, export_hash)
SELECT account_key, CAST(:on AS DATE), CAST(CAST(:on AS DATE) AS TIMESTAMP) + INTERVAL '18 hours',
       1000 + 7 * account_no + CAST(:to_offset AS BIGINT), NULL, 100 + CAST(:to_offset AS BIGINT), NULL, 'api', NULL, NULL
FROM bench_account;

INSERT INTO etl_account_coverage (account_key, snapshot_date, platform, status, message)
SELECT account_key, CAST(:on AS DATE), platform, 'ok', NULL FROM bench_account;

INSERT INTO fact_news_article (article_id, canonical_url, url, outlet_code, source, published_at, published_on,
                               published_estimated, title, summary, language, cluster_id, duplicate_of, similarity,
                               sentiment, first_seen_at, last_seen_at, text_repairs)
SELECT 'a' || LPAD(CAST(CAST(:to_offset AS BIGINT) * CAST(:articles AS BIGINT) + x AS VARCHAR), 10, '0'),
       'https://news.example.org/' || CAST(CAST(:to_offset AS BIGINT) * CAST(:articles AS BIGINT) + x AS VARCHAR),
       'https://news.example.org/' || CAST(CAST(:to_offset AS BIGINT) * CAST(:articles AS BIGINT) + x AS VARCHAR),
       'o' || CAST(x % 200 AS VARCHAR), 'feed',
       CAST(CAST(:on AS DATE) AS TIMESTAMP) + (x % 43200) * INTERVAL '1 second', CAST(:on AS DATE), FALSE,
       'Berita ' || CAST(x AS VARCHAR), NULL, 'id',
       'a' || LPAD(CAST(CAST(:to_offset AS BIGINT) * CAST(:articles AS BIGINT) + x - x % 3 AS VARCHAR), 10, '0'),
       CASE WHEN x % 3 > 0 THEN 'a' || LPAD(CAST(CAST(:to_offset AS BIGINT) * CAST(:articles AS BIGINT) + x - x % 3 AS VARCHAR), 10, '0') END,
       CASE WHEN x % 3 > 0 THEN 0.8 END, 0.1,
       CAST(CAST(:on AS DATE) AS TIMESTAMP) + INTERVAL '13 hours', CAST(CAST(:on AS DATE) AS TIMESTAMP) + INTERVAL '13 hours',
       NULL
FROM generate_series(0, CAST(:articles AS INTEGER) - 1) AS articles(x);

INSERT INTO fact_news_mention (article_id, agency_code, published_on, alias, position, mentions, confidence, method,
                               sentiment, mention_role, roles, unit_words, tone, tone_score, tone_method)
SELECT 'a' || LPAD(CAST(CAST(:to_offset AS BIGINT) * CAST(:articles AS BIGINT) + x AS VARCHAR), 10, '0'),
       'G' || LPAD(CAST((x * (1 + 6 * second_mention)) % CAST(:agencies AS BIGINT) AS VARCHAR), 5, '0'), CAST(:on AS DATE),
       'alias', 10, 1, 0.9, 'alias', 0.1 * (x % 3 - 1), 'institution', 'institution', NULL,
       CASE x % 3 WHEN 0 THEN 'negative' WHEN 1 THEN 'neutral' ELSE 'positive' END, x % 3 - 1, 'rules-1'
FROM generate_series(0, CAST(:articles AS INTEGER) - 1) AS articles(x)
CROSS JOIN generate_series(0, 1) AS mentions(second_mention)
WHERE second_mention = 0 OR (x % 4 = 0 AND (x * 7) % CAST(:agencies AS BIGINT) <> x % CAST(:agencies AS BIGINT));

-- What the indicator models left for the nights before :day (the timed day computes its own).
INSERT INTO fact_post_daily_increase (platform, platform_post_id, snapshot_date, account_key, engagement, views)
SELECT b.platform, 'p' || LPAD(CAST((CAST(:to_offset AS BIGINT) - age + 29) * CAST(:per_day AS BIGINT) + k AS VARCHAR), 10, '0'), CAST(:on AS DATE),
       b.account_key, CASE WHEN age = 0 THEN k % 997 + k % 53 ELSE 4 END, CASE WHEN age = 0 THEN k % 100000 ELSE 50 END
FROM generate_series(0, 29) AS ages(age)
CROSS JOIN generate_series(0, CAST(:per_day AS INTEGER) - 1) AS posts(k)
JOIN bench_account b ON b.account_no = k % CAST(:accounts AS BIGINT)
WHERE CAST(:on AS DATE) < CAST(:day AS DATE);

INSERT INTO campaign_post (campaign_code, platform, platform_post_id, account_key, agency_code, layer, published_on,
                           matched_term)
SELECT c.campaign_code, b.platform, 'p' || LPAD(CAST((CAST(:to_offset AS BIGINT) + 29) * CAST(:per_day AS BIGINT) + k AS VARCHAR), 10, '0'),
       b.account_key, b.agency_code, b.layer, CAST(:on AS DATE),
       CASE WHEN k % 10 = 0 THEN 'hashtag:' || c.hashtags ELSE 'keyword:' || c.keywords END
FROM generate_series(0, CAST(:per_day AS INTEGER) - 1) AS posts(k)
JOIN bench_account b ON b.account_no = k % CAST(:accounts AS BIGINT)
JOIN campaign c ON CAST(:on AS DATE) BETWEEN c.starts_on AND c.ends_on
WHERE (k % 10 = 0 OR k % 25 = 0) AND CAST(:on AS DATE) < CAST(:day AS DATE);

INSERT INTO agency_campaign_daily (campaign_code, agency_code, indicator_date, campaign_posts, campaign_engagement)
SELECT c.campaign_code, a.agency_code, CAST(:on AS DATE), 3, 40
FROM campaign c
CROSS JOIN dim_agency a
WHERE CAST(:on AS DATE) BETWEEN c.starts_on AND c.ends_on AND CAST(:on AS DATE) < CAST(:day AS DATE);

INSERT INTO agency_daily_indicators (agency_code, indicator_date, platform, posts_published, followers, follower_growth,
                                     engagement, views, engagement_rate, accounts_registered, accounts_collected, coverage,
                                     accounts_by_export, news_mentions, news_mentions_institution, news_copies,
                                     news_outlets, news_negative_mentions, news_positive_mentions, active_platforms,
                                     popularity_posts, follower_band, ranked, amplification_posts, amplified_posts)
SELECT a.agency_code, CAST(:on AS DATE), s.scope, 10, 50000, 35, 4000, 90000, 80.0, 16, 16, 1.0, 0, 20, 20, 5, 15, 6,
       7, 5, 10, '10k_100k', TRUE, 10, 3
FROM dim_agency a
CROSS JOIN (SELECT 'all' AS scope UNION ALL SELECT DISTINCT platform FROM bench_account) s
WHERE CAST(:on AS DATE) < CAST(:day AS DATE);
