-- accelerometer_landing: accelerometer landing zone, JSON lines as the accelerometer source delivers them.
-- Grain: one row per accelerometer reading from the mobile app.
-- Key: none (readings may repeat).
-- Malformed lines do not fail queries (ignore.malformed.json), nor do values of the wrong type, which
-- read as NULL (use.null.for.invalid.data); keys match case-insensitively.
-- ${bucket} and ${database} are filled in by `python -m scripts.ddl render` and by deploy.
CREATE EXTERNAL TABLE IF NOT EXISTS `${database}`.`accelerometer_landing` (
  `user`      string,
  `timestamp` bigint,
  `x`         double,
  `y`         double,
  `z`         double
)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
WITH SERDEPROPERTIES (
  'ignore.malformed.json' = 'true',
  'use.null.for.invalid.data' = 'true',
  'case.insensitive' = 'true'
)
STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION 's3://${bucket}/accelerometer/landing/'
TBLPROPERTIES ('classification' = 'json');
