-- Rows the night wrote for :day in each table the morning's readers need (one row per table, fixed order).
SELECT 'fact_account_daily' AS table_name, COUNT(*) AS day_rows FROM fact_account_daily WHERE snapshot_date = :day
UNION ALL
SELECT 'fact_post_metrics_daily', COUNT(*) FROM fact_post_metrics_daily WHERE snapshot_date = :day
UNION ALL
SELECT 'agency_daily_indicators', COUNT(*) FROM agency_daily_indicators WHERE indicator_date = :day;
