-- API calls a night made per platform, against the fewest its batch and page sizes allow for what it collected.
-- The minimum counts every account asked about (ledger status other than deferred / token_expired), a walk of its
-- posts only for accounts collected whole (ok: a protected, private or unknown account is answered by its first call),
-- and every post snapshot loaded that day; it ignores retries, lookups of vanished posts and the page that finds the
-- re-pull cutoff, so made / minimum above 1 is the price of those. Sizes come from the sources' EndpointSpecs (bound parameters).
WITH collected AS (
    SELECT c.snapshot_date AS day, c.platform, c.account_key, c.status
    FROM etl_account_coverage c
    WHERE c.snapshot_date BETWEEN :first AND :last AND c.status NOT IN ('deferred', 'token_expired')
),
posts AS (
    SELECT snapshot_date AS day, account_key, COUNT(*) AS posts
    FROM fact_post_metrics_daily
    WHERE snapshot_date BETWEEN :first AND :last
    GROUP BY snapshot_date, account_key
),
per_account AS (
    SELECT c.day, c.platform, c.account_key, c.status, COALESCE(p.posts, 0) AS posts
    FROM collected c LEFT JOIN posts p ON p.day = c.day AND p.account_key = c.account_key
),
per_platform AS (
    SELECT day, platform, COUNT(*) AS accounts, SUM(posts) AS posts,
           -- at least one page per account walked, even one that posted nothing in the window
           SUM(CASE WHEN status = 'ok' THEN CEIL(CAST(GREATEST(posts, 1) AS DOUBLE PRECISION) / CASE platform
               WHEN 'youtube' THEN :youtube_page WHEN 'x' THEN :x_page WHEN 'instagram' THEN :instagram_page
               WHEN 'facebook' THEN :facebook_page ELSE :tiktok_page END) ELSE 0 END) AS pages,
           -- business_discovery answers an unknown or private account with its first (and only) call
           SUM(CASE WHEN status = 'ok' THEN 0 ELSE 1 END) AS answered_at_once
    FROM per_account
    GROUP BY day, platform
),
minimum AS (
    SELECT day, platform, accounts, posts,
           CAST(CASE platform
               -- channels.list by 50 ids, one uploads walk per channel, videos.list by 50 ids
               WHEN 'youtube' THEN CEIL(CAST(accounts AS DOUBLE PRECISION) / :youtube_ids) + pages
                                   + CEIL(CAST(posts AS DOUBLE PRECISION) / :youtube_ids)
               -- users lookup by 100 ids, one timeline walk per account (tweets carry their metrics)
               WHEN 'x' THEN CEIL(CAST(accounts AS DOUBLE PRECISION) / :x_ids) + pages
               -- business_discovery: the first media page carries the account's counts
               WHEN 'instagram' THEN pages + answered_at_once
               -- the page's own fields, then published_posts pages
               WHEN 'facebook' THEN accounts + pages
               -- user/info per account, video/query over 20 usernames at a time
               ELSE accounts + GREATEST(CEIL(CAST(accounts AS DOUBLE PRECISION) / :tiktok_users),
                                        CEIL(CAST(posts AS DOUBLE PRECISION) / :tiktok_page))
           END AS BIGINT) AS minimum_calls
    FROM per_platform
),
last_run AS (
    -- every attempt counts (retries included); a day run twice counts its latest run
    SELECT data_date, source, run_id
    FROM (SELECT data_date, source, run_id,
                 ROW_NUMBER() OVER (PARTITION BY data_date, source ORDER BY started_at DESC) AS latest
          FROM etl_run
          WHERE task_id LIKE 'collect\_%.extract' ESCAPE '\' AND data_date BETWEEN :first AND :last) runs
    WHERE latest = 1
),
made AS (
    SELECT r.data_date AS day, r.source AS platform, SUM(r.api_calls) AS calls_made
    FROM etl_run r JOIN last_run l ON l.data_date = r.data_date AND l.source = r.source AND l.run_id = r.run_id
    WHERE r.task_id LIKE 'collect\_%.extract' ESCAPE '\'
    GROUP BY r.data_date, r.source
)
SELECT m.day, m.platform, m.accounts, m.posts, COALESCE(d.calls_made, 0) AS calls_made, m.minimum_calls
FROM minimum m LEFT JOIN made d ON d.day = m.day AND d.platform = m.platform
ORDER BY m.day, m.platform
