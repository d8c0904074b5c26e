-- machine_learning_curated: written by the Glue job glue_jobs/machine_learning_curated.py (Snappy Parquet).
-- Grain: one row per pair of a step trainer reading and an accelerometer reading taken at the same time; pseudonymous: no personal column, the device by a keyed hash.
-- Key: none: one row per matched pair of readings.
-- deviceId: HMAC-SHA256 of the step trainer's serial number in hex, under a key kept outside the
-- data (an SSM SecureString on AWS): one id per device, which cannot be joined back to a customer.
-- ${bucket} and ${database} are filled in by `python -m scripts.ddl render` and by deploy.
CREATE EXTERNAL TABLE IF NOT EXISTS `${database}`.`machine_learning_curated` (
  `sensorReadingTime`  bigint,
  `deviceId`           string,
  `distanceFromObject` int,
  `x`                  double,
  `y`                  double,
  `z`                  double
)
STORED AS PARQUET
LOCATION 's3://${bucket}/step_trainer/curated/'
TBLPROPERTIES ('classification' = 'parquet', 'parquet.compression' = 'SNAPPY');
