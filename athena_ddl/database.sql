-- database: the Glue catalog database that holds every table of athena_ddl/.
-- Run first: each table file creates its table in this database, and the Glue jobs' sinks
-- (enableUpdateCatalog) update their tables in it.
-- ${database} is filled in by `python -m scripts.ddl render` and by deploy.
CREATE DATABASE IF NOT EXISTS `${database}`
COMMENT 'STEDI Human Balance Analytics lakehouse';
