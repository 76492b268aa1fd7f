-- Registry of the indicator benchmark (scripts/bench_indicators.py): CAST(:accounts AS BIGINT) accounts in agencies of 16 (five
-- official accounts, one a platform, and eleven layer 1-3 accounts), one campaign a month with a hashtag and a keyword.
-- bench_account numbers the accounts so the history's posts find theirs by arithmetic (post k belongs to k % CAST(:accounts AS BIGINT)).
CREATE TABLE bench_account (
    account_no   INTEGER PRIMARY KEY,
    account_key  VARCHAR NOT NULL,
    agency_code  VARCHAR NOT NULL,
    platform     VARCHAR NOT NULL,
    layer        INTEGER NOT NULL,
    slot         INTEGER NOT NULL               -- the account's place in its agency, 0..15 (3 = the official X account)
);

INSERT INTO bench_account (account_no, account_key, agency_code, platform, layer, slot)
SELECT i, platform || ':' || agency_code || ':' || CAST(slot AS VARCHAR), agency_code, platform,
       CASE WHEN slot < 5 THEN 0 ELSE 1 + (slot - 5) % 3 END, slot
FROM (
    SELECT i, i % 16 AS slot,
           'G' || LPAD(CAST(CAST(FLOOR(i / 16.0) AS INTEGER) AS VARCHAR), 5, '0') AS agency_code,
           CASE (i % 16) % 5 WHEN 0 THEN 'youtube' WHEN 1 THEN 'instagram' WHEN 2 THEN 'facebook' WHEN 3 THEN 'x'
                ELSE 'tiktok' END AS platform
    FROM generate_series(0, CAST(:accounts AS INTEGER) - 1) AS n(i)
) numbered;

INSERT INTO dim_agency (agency_code, name, short_name, category, parent_agency_code, region_code)
SELECT DISTINCT agency_code, 'Agency ' || agency_code, NULL,
       CASE CAST(SUBSTR(agency_code, 2) AS INTEGER) % 4 WHEN 0 THEN 'kementerian' WHEN 1 THEN 'lembaga'
            WHEN 2 THEN 'provinsi' ELSE 'kabkota' END,
       NULL, NULL
FROM bench_account;

INSERT INTO dim_account (account_key, agency_code, platform, handle, platform_account_id, layer, active_from, active_to,
                         is_sandbox, collected_by)
SELECT account_key, agency_code, platform, 'h' || CAST(account_no AS VARCHAR), CAST(account_no AS VARCHAR), layer,
       CAST(:first_day AS DATE) - 30, NULL, TRUE, 'api'
FROM bench_account;

-- Campaign c runs 20 days from the history's 30 x c-th day; the last one runs over :day.
INSERT INTO campaign (campaign_code, name, theme, hashtags, keywords, starts_on, ends_on, is_sandbox)
SELECT 'kampanye' || CAST(c AS VARCHAR), 'Kampanye ' || CAST(c AS VARCHAR), NULL, 'kampanye' || CAST(c AS VARCHAR),
       'program ' || CAST(c AS VARCHAR), CAST(:first_day AS DATE) + CAST(30 * c AS INTEGER), CAST(:first_day AS DATE) + CAST(30 * c + 19 AS INTEGER), TRUE
FROM generate_series(0, CAST(FLOOR((CAST(:days AS BIGINT) - 1) / 30.0) AS INTEGER)) AS n(c);

INSERT INTO campaign_term (campaign_code, term_kind, term)
SELECT campaign_code, 'hashtag', hashtags FROM campaign
UNION ALL
SELECT campaign_code, 'keyword', keywords FROM campaign;
