-- step_trainer_landing: step_trainer landing zone, JSON lines as the step_trainer source delivers them.
-- Grain: one row per step trainer distance reading.
-- Key: none (readings may repeat).
-- Malformed lines do not fail queries (ignore.malformed.json), nor do values of the wrong type, which
-- read as NULL (use.null.for.invalid.data); keys match case-insensitively.
-- ${bucket} and ${database} are filled in by `python -m scripts.ddl render` and by deploy.
CREATE EXTERNAL TABLE IF NOT EXISTS `${database}`.`step_trainer_landing` (
  `sensorReadingTime`  bigint,
  `serialNumber`       string,
  `distanceFromObject` int
)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
WITH SERDEPROPERTIES (
  'ignore.malformed.json' = 'true',
  'use.null.for.invalid.data' = 'true',
  'case.insensitive' = 'true'
)
STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION 's3://${bucket}/step_trainer/landing/'
TBLPROPERTIES ('classification' = 'json');
