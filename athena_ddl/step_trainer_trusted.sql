-- step_trainer_trusted: written by the Glue job glue_jobs/step_trainer_trusted.py (Snappy Parquet).
-- Grain: one row per distinct reading (sensorReadingTime, serialNumber, distanceFromObject) of a curated customer's device.
-- Key: (sensorReadingTime, serialNumber, distanceFromObject).
-- ${bucket} and ${database} are filled in by `python -m scripts.ddl render` and by deploy.
CREATE EXTERNAL TABLE IF NOT EXISTS `${database}`.`step_trainer_trusted` (
  `sensorReadingTime`  bigint,
  `serialNumber`       string,
  `distanceFromObject` int
)
STORED AS PARQUET
LOCATION 's3://${bucket}/step_trainer/trusted/'
TBLPROPERTIES ('classification' = 'parquet', 'parquet.compression' = 'SNAPPY');
