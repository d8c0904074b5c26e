-- data_quality_results: every rule of every data-quality gate the jobs evaluated, passed or failed.
-- Grain: one row per rule of each data-quality gate a job evaluated.
-- Key: none. Appended by each job before its gate decides (a failed run's reasons are here too); never rewritten.
-- evaluation_context names the gate: <database>.<source>_landing, or <database>.<table>.<consent_mode>.<ml_match>.
-- evaluated_metrics holds Glue Data Quality's metrics by name: evaluated_metrics['Dataset.*.RowCount'].
-- ${bucket} and ${database} are filled in by `python -m scripts.ddl render` and by deploy.
CREATE EXTERNAL TABLE IF NOT EXISTS `${database}`.`data_quality_results` (
  `evaluated_at`       timestamp,
  `job_name`           string,
  `job_run_id`         string,
  `evaluation_context` string,
  `rule`               string,
  `outcome`            string,
  `failure_reason`     string,
  `evaluated_metrics`  map<string,double>,
  `dq_override`        boolean
)
STORED AS PARQUET
LOCATION 's3://${bucket}/data_quality/results/'
TBLPROPERTIES ('classification' = 'parquet', 'parquet.compression' = 'SNAPPY');
