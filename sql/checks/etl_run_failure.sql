-- The etl_run message of a failed task, for its failure alert: the row of the Airflow task itself when the step
-- records under the task id (social_metrics shards), else the run's latest failure at the same map index.
SELECT task_id, message
FROM etl_run
WHERE run_id = :run_id AND map_index = :map_index AND status = 'failed'
ORDER BY CASE WHEN task_id = :task_id THEN 0 ELSE 1 END, finished_at DESC
LIMIT 1;
