-- customer_trusted: written by the Glue job glue_jobs/customer_landing_to_trusted.py (Snappy Parquet).
-- Grain: one row per email (key: email): latest record of customers who consented to research.
-- Key: email.
-- ${bucket} and ${database} are filled in by `python -m scripts.ddl render` and by deploy.
CREATE EXTERNAL TABLE IF NOT EXISTS `${database}`.`customer_trusted` (
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
LOCATION 's3://${bucket}/customer/trusted/'
TBLPROPERTIES ('classification' = 'parquet', 'parquet.compression' = 'SNAPPY');
