-- 012: what an evaluation team and an analyst need beside the numbers (issue 12).
--   report_agency_data_start    the first day Pantau collected each agency's accounts (any status)
--   report_campaign_leaderboard  + days_to_first_post counted from the later of the campaign start and that first day
--                                 (0 when the first campaign post predates the data: it was there on the first day)
--                                 (data_started_late marks the rows where the data begins after the campaign start)
--   report_campaign_standings    each campaign's standings over its whole period: the latest as-of day computed
--                                 (period_complete when that day is on or after the campaign's end)

CREATE VIEW report_agency_data_start AS
SELECT ac.agency_code, MIN(c.snapshot_date) AS first_data_on
FROM etl_account_coverage c
JOIN dim_account ac ON ac.account_key = c.account_key
GROUP BY ac.agency_code;

DROP VIEW report_campaign_leaderboard;

CREATE VIEW report_campaign_leaderboard AS
SELECT s.as_of_date,
       s.campaign_code,
       c.name AS campaign_name,
       c.is_sandbox AS campaign_is_sandbox,
       c.starts_on AS campaign_starts_on,
       c.ends_on AS campaign_ends_on,
       s.category,
       s.agency_code,
       a.name AS agency_name,
       s.rank_in_category,
       s.dissemination_score,
       s.days_active,
       s.campaign_posts,
       s.campaign_engagement,
       s.first_post_on,
       s.first_post_lag_days,
       CASE WHEN d.first_data_on > c.starts_on THEN d.first_data_on ELSE c.starts_on END AS first_post_counted_from,
       CASE
         WHEN s.first_post_on IS NULL THEN NULL
         WHEN d.first_data_on > s.first_post_on THEN 0   -- posted before the data began: seen on the first day of data
         WHEN d.first_data_on > c.starts_on THEN s.first_post_on - d.first_data_on
         ELSE s.first_post_on - c.starts_on
       END AS days_to_first_post,
       COALESCE(d.first_data_on > c.starts_on, FALSE) AS data_started_late,
       s.mean_coverage,
       s.ranked,
       s.exclusion_reason
FROM agency_campaign_standings s
JOIN campaign c ON c.campaign_code = s.campaign_code
JOIN dim_agency a ON a.agency_code = s.agency_code
LEFT JOIN report_agency_data_start d ON d.agency_code = s.agency_code;

CREATE VIEW report_campaign_standings AS
SELECT l.*,
       l.as_of_date >= l.campaign_ends_on AS period_complete
FROM report_campaign_leaderboard l
JOIN (SELECT campaign_code, MAX(as_of_date) AS as_of_date FROM agency_campaign_standings GROUP BY campaign_code) latest
  ON latest.campaign_code = l.campaign_code AND latest.as_of_date = l.as_of_date;
