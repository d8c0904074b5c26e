-- customer_quarantine: the customer landing records that the landing job rejected, one JSON line each.
-- Grain: one row per customer landing record the landing job rejected.
-- A line may hold several records: object_index tells them apart.
-- Key: none. Replaced on every run of the landing job, like the zones; empty when nothing was rejected.
-- record is the rejected text as it stood in the landing file; line_number counts from 1 in source_file.
-- ${bucket} and ${database} are filled in by `python -m scripts.ddl render` and by deploy.
CREATE EXTERNAL TABLE IF NOT EXISTS `${database}`.`customer_quarantine` (
  `record`       string,
  `source_file`  string,
  `line_number`  bigint,
  `object_index` int,
  `reason`       string
)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
WITH SERDEPROPERTIES (
  'ignore.malformed.json' = 'true',
  'use.null.for.invalid.data' = 'true'
)
STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION 's3://${bucket}/customer/quarantine/'
TBLPROPERTIES ('classification' = 'json');
