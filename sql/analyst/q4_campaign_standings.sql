-- A campaign's standings over its whole period (any campaign, however long ago it ended), ranked agencies per category.
SELECT category,
       rank_in_category,
       agency_name,
       dissemination_score,
       days_active,
       campaign_posts,
       campaign_engagement,
       days_to_first_post,
       data_started_late,
       ROUND(CAST(mean_coverage AS NUMERIC), 2) AS mean_coverage
FROM report_campaign_standings
WHERE campaign_code = 'SANDBOX-BERAKSI'
  AND ranked
ORDER BY category, rank_in_category, agency_name;
