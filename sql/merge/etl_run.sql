-- One row per task try; a retry of the same task in the same run overwrites its row.
INSERT INTO etl_run (run_id, dag_id, task_id, map_index, source, shard, data_date, started_at, finished_at, status,
                     rows_extracted, rows_valid, rows_quarantined, rows_loaded, api_calls, api_retries, seconds, message)
SELECT run_id, dag_id, task_id, map_index, source, shard, data_date, started_at, finished_at, status,
       rows_extracted, rows_valid, rows_quarantined, rows_loaded, api_calls, api_retries, seconds, message
FROM stg_etl_run
ON CONFLICT (run_id, task_id, map_index) DO UPDATE SET
    source = excluded.source, shard = excluded.shard, data_date = excluded.data_date,
    started_at = excluded.started_at, finished_at = excluded.finished_at, status = excluded.status,
    rows_extracted = excluded.rows_extracted, rows_valid = excluded.rows_valid,
    rows_quarantined = excluded.rows_quarantined, rows_loaded = excluded.rows_loaded,
    api_calls = excluded.api_calls, api_retries = excluded.api_retries,
    seconds = excluded.seconds, message = excluded.message;
