-- accelerometer_trusted: written by the Glue job glue_jobs/accelerometer_landing_to_trusted.py (Snappy Parquet).
-- Grain: one row per distinct reading (user, timestamp, x, y, z) of a trusted customer.
-- Key: (user, timestamp, x, y, z).
-- ${bucket} and ${database} are filled in by `python -m scripts.ddl render` and by deploy.
CREATE EXTERNAL TABLE IF NOT EXISTS `${database}`.`accelerometer_trusted` (
  `user`      string,
  `timestamp` bigint,
  `x`         double,
  `y`         double,
  `z`         double
)
STORED AS PARQUET
LOCATION 's3://${bucket}/accelerometer/trusted/'
TBLPROPERTIES ('classification' = 'parquet', 'parquet.compression' = 'SNAPPY');
