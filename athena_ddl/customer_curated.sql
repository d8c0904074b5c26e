-- customer_curated: written by the Glue job glue_jobs/customer_trusted_to_curated.py (Snappy Parquet).
-- Grain: one row per email (key: email): trusted customers with accelerometer readings.
-- Key: email.
-- ${bucket} and ${database} are filled in by `python -m scripts.ddl render` and by deploy.
CREATE EXTERNAL TABLE IF NOT EXISTS `${database}`.`customer_curated` (
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
STORED AS PARQUET
LOCATION 's3://${bucket}/customer/curated/'
TBLPROPERTIES ('classification' = 'parquet', 'parquet.compression' = 'SNAPPY');
