-- The export ledger: one row per file and account. A file seen again (a quarantined one retried after a registry
-- fix) replaces its own rows.
DELETE FROM etl_export_file WHERE file_hash IN (SELECT DISTINCT file_hash FROM stg_export_files);
INSERT INTO etl_export_file (file_hash, account_key, file_name, platform, export_format, period_start, period_end,
                             rows_loaded, rows_quarantined, status, message, landing_file, run_id, imported_at)
SELECT file_hash, account_key, file_name, platform, export_format, period_start, period_end,
       rows_loaded, rows_quarantined, status, message, landing_file, run_id, imported_at
FROM stg_export_files;
