-- agency_campaign_standings as of :day, for every campaign running or ended in the 7 days before, over starts_on .. min(ends_on, :day),
-- for every agency (an agency that carried nothing is listed with zeros, not ranked).
--   days_active          days with at least one campaign post
--   first_post_lag_days  days from the campaign start to the agency's first campaign post
--   mean_coverage        mean of the agency's daily coverage ('all' row) over the period
--   ranked               FALSE with exclusion_reason when: no campaign post ('no campaign post'), or
--                        mean_coverage < 0.8 ('coverage below 80%')
--   dissemination_score  among ranked agencies of the same category: 100 x the mean of the CUME_DIST of
--                        days_active, campaign_posts and campaign_engagement (0..100, 1 decimal)
--   rank_in_category     RANK() by score, highest first; equal scores share a rank (1, 1, 3)
DELETE FROM agency_campaign_standings WHERE as_of_date = :day;

INSERT INTO agency_campaign_standings (campaign_code, agency_code, as_of_date, category, days_active, campaign_posts,
                                       campaign_engagement, first_post_on, first_post_lag_days, mean_coverage, ranked,
                                       exclusion_reason, dissemination_score, rank_in_category)
WITH started AS (
    SELECT campaign_code, starts_on, CASE WHEN ends_on < :day THEN ends_on ELSE CAST(:day AS DATE) END AS until_on
    FROM campaign
    WHERE starts_on <= :day AND ends_on >= :standings_since  -- running, or ended in the last 7 days
),
totals AS (
    SELECT d.campaign_code, d.agency_code,
           SUM(CASE WHEN d.campaign_posts > 0 THEN 1 ELSE 0 END) AS days_active,
           SUM(d.campaign_posts) AS campaign_posts,
           SUM(d.campaign_engagement) AS campaign_engagement
    FROM agency_campaign_daily d
    JOIN started s ON s.campaign_code = d.campaign_code AND d.indicator_date BETWEEN s.starts_on AND s.until_on
    GROUP BY d.campaign_code, d.agency_code
),
firsts AS (
    SELECT cp.campaign_code, cp.agency_code, MIN(cp.published_on) AS first_post_on
    FROM campaign_post cp
    JOIN started s ON s.campaign_code = cp.campaign_code AND cp.published_on <= s.until_on
    GROUP BY cp.campaign_code, cp.agency_code
),
coverage AS (
    SELECT s.campaign_code, i.agency_code, CAST(ROUND(CAST(AVG(i.coverage) AS NUMERIC(24, 10)), 6) AS DOUBLE PRECISION) AS mean_coverage
    FROM started s
    JOIN agency_daily_indicators i ON i.platform = 'all' AND i.indicator_date BETWEEN s.starts_on AND s.until_on
    GROUP BY s.campaign_code, i.agency_code
),
board AS (
    SELECT s.campaign_code, a.agency_code, a.category, s.starts_on,
           COALESCE(t.days_active, 0) AS days_active,
           COALESCE(t.campaign_posts, 0) AS campaign_posts,
           COALESCE(t.campaign_engagement, 0) AS campaign_engagement,
           f.first_post_on,
           cv.mean_coverage,
           CASE
             WHEN COALESCE(t.campaign_posts, 0) = 0 THEN 'no campaign post'
             WHEN cv.mean_coverage IS NULL OR cv.mean_coverage < 0.8 THEN 'coverage below 80%'
           END AS exclusion_reason
    FROM started s
    CROSS JOIN dim_agency a
    LEFT JOIN totals t ON t.campaign_code = s.campaign_code AND t.agency_code = a.agency_code
    LEFT JOIN firsts f ON f.campaign_code = s.campaign_code AND f.agency_code = a.agency_code
    LEFT JOIN coverage cv ON cv.campaign_code = s.campaign_code AND cv.agency_code = a.agency_code
),
scored AS (
    SELECT campaign_code, agency_code, category,
           ROUND(CAST(100.0 * (
               CUME_DIST() OVER (PARTITION BY campaign_code, category ORDER BY days_active)
             + CUME_DIST() OVER (PARTITION BY campaign_code, category ORDER BY campaign_posts)
             + CUME_DIST() OVER (PARTITION BY campaign_code, category ORDER BY campaign_engagement)
           ) / 3.0 AS NUMERIC(24, 10)), 1) AS score
    FROM board
    WHERE exclusion_reason IS NULL
),
ranked AS (
    SELECT campaign_code, agency_code, score,
           RANK() OVER (PARTITION BY campaign_code, category ORDER BY score DESC) AS rank_in_category
    FROM scored
)
SELECT b.campaign_code, b.agency_code, CAST(:day AS DATE), b.category, b.days_active, b.campaign_posts,
       b.campaign_engagement, b.first_post_on,
       CASE WHEN b.first_post_on IS NOT NULL THEN b.first_post_on - b.starts_on END,
       b.mean_coverage, b.exclusion_reason IS NULL, b.exclusion_reason,
       CAST(r.score AS DOUBLE PRECISION), r.rank_in_category
FROM board b
LEFT JOIN ranked r ON r.campaign_code = b.campaign_code AND r.agency_code = b.agency_code;
