-- Amplification by layers, for :day. Runs after agency_daily_indicators.sql.
-- The official posts are the agency's layer-0 posts published on :amplification_day (= :day - 2, so their 48-hour
-- window has closed by the end of :day), per platform and for 'all'. An official post is amplified when, within
-- 48 hours of its publication, one of the same agency's layer 1-3 accounts (KOL, white label, employee advocacy)
--   * reposted or quoted it: a post on the same platform with referenced_post_id = the official post's
--     platform_post_id and reference_kind 'repost' or 'quote' (a reply is not amplification), or
--   * published a post, on any platform, carrying a campaign hashtag the official post carries.
--   amplification_posts  the official posts published on :amplification_day
--   amplified_posts      of those, the amplified ones (a post echoed several times counts once)
--   amplification        amplified_posts / amplification_posts (NULL when there is none)
UPDATE agency_daily_indicators
SET amplification_posts = 0, amplified_posts = 0, amplification = NULL
WHERE indicator_date = :day;

UPDATE agency_daily_indicators
SET amplification_posts = amp.official_posts,
    amplified_posts = amp.amplified,
    amplification = amp.amplified * 1.0 / amp.official_posts
FROM (
    WITH official AS (
        SELECT p.platform, p.platform_post_id, p.published_at, p.hashtags, a.agency_code
        FROM dim_post p
        JOIN dim_account a ON a.account_key = p.account_key AND a.layer = 0
        WHERE p.published_on = :amplification_day
    ),
    reposted_or_quoted AS (
        SELECT DISTINCT o.platform, o.platform_post_id
        FROM official o
        JOIN dim_post e ON e.platform = o.platform
          AND e.referenced_post_id = o.platform_post_id
          AND e.reference_kind IN ('repost', 'quote')
          AND e.published_at >= o.published_at
          AND e.published_at <= o.published_at + INTERVAL '48 hours'
        JOIN dim_account a ON a.account_key = e.account_key AND a.agency_code = o.agency_code AND a.layer BETWEEN 1 AND 3
    ),
    hashtag_echoed AS (
        SELECT DISTINCT o.platform, o.platform_post_id
        FROM official o
        JOIN campaign_term t ON t.term_kind = 'hashtag'
          AND '|' || o.hashtags || '|' LIKE '%|' || t.term || '|%'
        JOIN dim_post e ON e.published_on BETWEEN :amplification_day AND :day  -- where a 48-hour echo can fall
          AND e.published_at >= o.published_at
          AND e.published_at <= o.published_at + INTERVAL '48 hours'
          AND '|' || e.hashtags || '|' LIKE '%|' || t.term || '|%'
        JOIN dim_account a ON a.account_key = e.account_key AND a.agency_code = o.agency_code AND a.layer BETWEEN 1 AND 3
    ),
    per_post AS (  -- one row per official post, however it was echoed
        SELECT o.agency_code, o.platform,
               CASE WHEN r.platform_post_id IS NOT NULL OR h.platform_post_id IS NOT NULL THEN 1 ELSE 0 END AS is_amplified
        FROM official o
        LEFT JOIN reposted_or_quoted r ON r.platform = o.platform AND r.platform_post_id = o.platform_post_id
        LEFT JOIN hashtag_echoed h ON h.platform = o.platform AND h.platform_post_id = o.platform_post_id
    ),
    scoped AS (
        SELECT agency_code, platform AS scope, is_amplified FROM per_post
        UNION ALL
        SELECT agency_code, 'all', is_amplified FROM per_post
    )
    SELECT agency_code, scope, COUNT(*) AS official_posts, SUM(is_amplified) AS amplified
    FROM scoped
    GROUP BY agency_code, scope
) AS amp
WHERE agency_daily_indicators.indicator_date = :day
  AND agency_daily_indicators.agency_code = amp.agency_code
  AND agency_daily_indicators.platform = amp.scope;
