-- Rows that failed their suite. A rerun of the same day and part replaces that part's rows,
-- so a row that passes after a fix leaves quarantine. Keyed by part too: shards never collide.
DELETE FROM etl_quarantine
WHERE (data_date, source, frame, part) IN (SELECT DISTINCT data_date, source, frame, part FROM stg_quarantine);
INSERT INTO etl_quarantine (data_date, source, frame, part, record_key, run_id, account, failed_expectations,
                            parse_issue, record, landing_file)
SELECT data_date, source, frame, part, record_key, run_id, account, failed_expectations,
       parse_issue, record, landing_file
FROM stg_quarantine
WHERE record_key IS NOT NULL;
