-- Amplification by layers, for :day. Runs after agency_daily_indicators.sql.
-- The official (layer-0) posts published on :amplification_day (= :day - 2, so their 48-hour window has closed
-- by the end of :day) are amplified when, within 48 hours of publication, one of the same agency's layer 1-3
-- accounts published a post that carries a campaign hashtag the official post carries.
--   amplification_posts  official posts published on :amplification_day that carry a campaign hashtag
--   amplified_posts      of those, the amplified ones
--   amplification        amplified_posts / amplification_posts (NULL when there is none)
-- Reposts and quotes count too once a platform's posts record what they reference (X referenced_tweets).
UPDATE agency_daily_indicators
SET amplification_posts = 0, amplified_posts = 0, amplification = NULL
WHERE indicator_date = :day;

UPDATE agency_daily_indicators
SET amplification_posts = amp.official_posts,
    amplified_posts = amp.amplified,
    amplification = amp.amplified * 1.0 / amp.official_posts
FROM (
    WITH official AS (
        SELECT DISTINCT p.platform, p.platform_post_id, p.published_at, a.agency_code, a.platform AS scope, t.term
        FROM dim_post p
        JOIN dim_account a ON a.account_key = p.account_key AND a.layer = 0
        JOIN campaign_term t ON t.term_kind = 'hashtag'
          AND '|' || p.hashtags || '|' LIKE '%|' || t.term || '|%'
        WHERE p.published_on = :amplification_day
    ),
    echoed AS (
        SELECT DISTINCT o.platform, o.platform_post_id
        FROM official o
        JOIN dim_account a ON a.agency_code = o.agency_code AND a.layer BETWEEN 1 AND 3
        JOIN dim_post e ON e.account_key = a.account_key
          AND e.published_at >= o.published_at
          AND e.published_at <= o.published_at + INTERVAL '48 hours'
          AND '|' || e.hashtags || '|' LIKE '%|' || o.term || '|%'
    ),
    per_post AS (  -- one row per official post, however many campaign hashtags it carries
        SELECT o.agency_code, o.scope, o.platform, o.platform_post_id,
               MAX(CASE WHEN e.platform_post_id IS NULL THEN 0 ELSE 1 END) AS is_amplified
        FROM official o
        LEFT JOIN echoed e ON e.platform = o.platform AND e.platform_post_id = o.platform_post_id
        GROUP BY o.agency_code, o.scope, o.platform, o.platform_post_id
    ),
    scoped AS (
        SELECT agency_code, scope, platform, platform_post_id, is_amplified FROM per_post
        UNION ALL
        SELECT agency_code, 'all', platform, platform_post_id, is_amplified FROM per_post
    )
    SELECT agency_code, scope, COUNT(*) AS official_posts, SUM(is_amplified) AS amplified
    FROM scoped
    GROUP BY agency_code, scope
) AS amp
WHERE agency_daily_indicators.indicator_date = :day
  AND agency_daily_indicators.agency_code = amp.agency_code
  AND agency_daily_indicators.platform = amp.scope;
