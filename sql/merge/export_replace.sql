-- A corrected export replaces what earlier exports of the same format said about the account on the days it
-- covers (:first_day .. :last_day): their rows go, API rows stay, and the earlier files are marked replaced.
-- Parameters: :kind (posts or account_daily), :platform, :account_key, :export_format, :first_day, :last_day, :file_hash.
DELETE FROM fact_post_metrics_daily
WHERE :kind = 'posts' AND source = 'export' AND platform = :platform AND account_key = :account_key
  AND snapshot_date BETWEEN CAST(:first_day AS DATE) AND CAST(:last_day AS DATE) AND export_hash <> :file_hash;

DELETE FROM fact_account_daily
WHERE :kind = 'account_daily' AND source = 'export' AND account_key = :account_key
  AND snapshot_date BETWEEN CAST(:first_day AS DATE) AND CAST(:last_day AS DATE) AND export_hash <> :file_hash;

UPDATE etl_export_file SET status = 'replaced', message = 'replaced by export ' || :file_hash
WHERE status = 'loaded' AND account_key = :account_key AND export_format = :export_format
  AND period_start >= CAST(:first_day AS DATE) AND period_end <= CAST(:last_day AS DATE) AND file_hash <> :file_hash;
