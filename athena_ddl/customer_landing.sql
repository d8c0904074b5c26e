-- customer_landing: customer landing zone, JSON lines as the customer source delivers them.
-- Grain: one row per customer record as exported by the website (an email may repeat).
-- Key: none (an email may repeat; customer_trusted keeps the latest record per email).
-- Malformed lines do not fail queries (ignore.malformed.json), nor do values of the wrong type, which
-- read as NULL (use.null.for.invalid.data); keys match case-insensitively.
-- ${bucket} and ${database} are filled in by `python -m scripts.ddl render` and by deploy.
CREATE EXTERNAL TABLE IF NOT EXISTS `${database}`.`customer_landing` (
  `customerName`              string,
  `email`                     string,
  `phone`                     string,
  `birthDay`                  string,
  `serialNumber`              string,
  `registrationDate`          bigint,
  `lastUpdateDate`            bigint,
  `shareWithResearchAsOfDate` bigint,
  `shareWithPublicAsOfDate`   bigint,
  `shareWithFriendsAsOfDate`  bigint
)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
WITH SERDEPROPERTIES (
  'ignore.malformed.json' = 'true',
  'use.null.for.invalid.data' = 'true',
  'case.insensitive' = 'true'
)
STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION 's3://${bucket}/customer/landing/'
TBLPROPERTIES ('classification' = 'json');
