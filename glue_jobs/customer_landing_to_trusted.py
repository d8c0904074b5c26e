"""Customer landing -> trusted (AWS Glue 5.0 job).

customer_trusted, grain: one row per email (key: email). The website exports a customer again
each time the record changes, so the latest record per email (greatest lastUpdateDate, then
registrationDate) stands for the customer, and it is kept only if it carries research consent
(shareWithResearchAsOfDate not null): a consent withdrawn later removes the customer.

Lines of the landing zone that are not JSON objects of the schema go to customer/quarantine with
a reason instead of being dropped.

Arguments: --JOB_NAME --lake_root [--database stedi] [--consent_mode registered|since_consent]
[--ml_match device|timestamp]; every job takes all of them, this one depends on none of the options.
"""

import sys

from awsglue.context import GlueContext
from awsglue.dynamicframe import DynamicFrame
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.functions import col, input_file_name, lit
from pyspark.sql.types import LongType, StringType, StructField, StructType

SOURCES = {"customer_landing": "customer/landing"}
TARGET = {"customer_trusted": "customer/trusted"}
QUARANTINE = "customer/quarantine"

CUSTOMER_LANDING_SCHEMA = StructType([
    StructField("customerName", StringType()),
    StructField("email", StringType()),
    StructField("phone", StringType()),
    StructField("birthDay", StringType()),
    StructField("serialNumber", StringType()),
    StructField("registrationDate", LongType()),
    StructField("lastUpdateDate", LongType()),
    StructField("shareWithResearchAsOfDate", LongType()),
    StructField("shareWithPublicAsOfDate", LongType()),
    StructField("shareWithFriendsAsOfDate", LongType()),
])

CUSTOMER_TRUSTED_SQL = """
with landing as (
    select * from {customer_landing}
),

ranked as (
    select
        landing.*,
        row_number() over (
            partition by email
            -- latest record first; the remaining columns only make ties deterministic
            order by lastUpdateDate desc nulls last, registrationDate desc nulls last,
                     shareWithResearchAsOfDate desc nulls last,
                     shareWithPublicAsOfDate desc nulls last,
                     shareWithFriendsAsOfDate desc nulls last, serialNumber desc nulls last,
                     customerName desc nulls last, phone desc nulls last,
                     birthDay desc nulls last
        ) as recency_rank
    from landing
    where email is not null
),

latest as (
    select * from ranked where recency_rank = 1
),

final as (
    select
        customerName, email, phone, birthDay, serialNumber, registrationDate, lastUpdateDate,
        shareWithResearchAsOfDate, shareWithPublicAsOfDate, shareWithFriendsAsOfDate
    from latest
    where shareWithResearchAsOfDate is not null
)

select * from final
"""

# --- common job plumbing -----------------------------------------------------------------------
# Identical in every script of glue_jobs/ (tests/test_glue_jobs.py checks it): each script must
# upload to Glue Studio on its own, so there is no shared module to import it from.
OPTIONAL_ARGUMENTS = {"database": "stedi", "consent_mode": "registered", "ml_match": "device"}
ALLOWED_VALUES = {"consent_mode": ("registered", "since_consent"),
                  "ml_match": ("device", "timestamp")}


class MissingColumnsError(ValueError):
    """An input of the job lacks columns that the job needs."""


def require_columns(frame: DataFrame, frame_name: str, columns: list[str]) -> None:
    missing = [name for name in columns if name not in frame.columns]
    if missing:
        raise MissingColumnsError(f"{frame_name} is missing columns: {', '.join(missing)}")


def resolve_arguments(argv: list[str]) -> dict[str, str]:
    """Job arguments with defaults. Glue's getResolvedOptions insists on every option it is
    asked for, so the optional ones are asked for only when they were given."""
    given = [name for name in OPTIONAL_ARGUMENTS if f"--{name}" in argv]
    args = {**OPTIONAL_ARGUMENTS, **getResolvedOptions(argv, ["JOB_NAME", "lake_root", *given])}
    for name, allowed in ALLOWED_VALUES.items():
        if args[name] not in allowed:
            raise ValueError(f"--{name} must be one of {', '.join(allowed)}, not {args[name]!r}")
    args["lake_root"] = args["lake_root"].rstrip("/")
    return args


def read_zone(glue_context: GlueContext, lake_root: str, relative_path: str) -> DataFrame:
    """An upstream zone written by another job of this pipeline (Snappy Parquet)."""
    return glue_context.create_dynamic_frame.from_options(
        connection_type="s3",
        connection_options={"paths": [f"{lake_root}/{relative_path}/"], "recurse": True},
        format="parquet",
    ).toDF()


def load(glue_context: GlueContext, frame: DataFrame, lake_root: str, database: str,
         table_name: str, relative_path: str) -> None:
    """Replace the table's files and update its catalog entry. The purge comes first so that a
    re-run never duplicates rows (retentionPeriod 0: Glue's default keeps files of the past week)."""
    path = f"{lake_root}/{relative_path}/"
    glue_context.purge_s3_path(path, options={"retentionPeriod": 0})
    sink = glue_context.getSink(connection_type="s3", path=path, enableUpdateCatalog=True,
                                updateBehavior="UPDATE_IN_DATABASE", partitionKeys=[])
    sink.setCatalogInfo(catalogDatabase=database, catalogTableName=table_name)
    sink.setFormat("glueparquet", compression="snappy")
    sink.writeFrame(DynamicFrame.fromDF(frame, glue_context, table_name))
# --- end of common job plumbing ----------------------------------------------------------------
# --- landing reader ----------------------------------------------------------------------------
# Identical in every script that reads a landing zone (tests/test_glue_jobs.py checks it).
CORRUPT_RECORD = "_corrupt_record"
SOURCE_FILE = "_source_file"


def read_landing(spark: SparkSession, path: str, schema: StructType) -> tuple[DataFrame, DataFrame]:
    """JSON lines under ``path`` read with an explicit schema: (accepted rows, quarantined lines).

    PERMISSIVE mode keeps a line that does not fit the schema in _corrupt_record instead of
    dropping it, so every line lands on exactly one side. The parse is cached because both sides
    read it (and Spark refuses a query on the corrupt-record column alone without a cache).
    """
    reading_schema = StructType([*schema.fields, StructField(CORRUPT_RECORD, StringType())])
    parsed = (spark.read.schema(reading_schema)
              .option("mode", "PERMISSIVE")
              .option("columnNameOfCorruptRecord", CORRUPT_RECORD)
              .option("recursiveFileLookup", "true")
              .json(path)
              .withColumn(SOURCE_FILE, input_file_name())
              .cache())
    accepted = parsed.where(col(CORRUPT_RECORD).isNull()).select(*schema.fieldNames())
    quarantined = parsed.where(col(CORRUPT_RECORD).isNotNull()).select(
        col(CORRUPT_RECORD).alias("record"),
        col(SOURCE_FILE).alias("source_file"),
        lit("malformed JSON or a value of the wrong type").alias("reason"),
    )
    return accepted, quarantined


def load_quarantine(glue_context: GlueContext, quarantined: DataFrame, lake_root: str,
                    relative_path: str) -> None:
    """Rejected lines as JSON lines with their reason; replaced on every run like the zones."""
    path = f"{lake_root}/{relative_path}/"
    glue_context.purge_s3_path(path, options={"retentionPeriod": 0})
    if not quarantined.isEmpty():
        quarantined.write.mode("append").json(path)
# --- end of landing reader ---------------------------------------------------------------------


def extract(spark: SparkSession, lake_root: str) -> tuple[DataFrame, DataFrame]:
    """(customer landing rows, quarantined landing lines)."""
    return read_landing(spark, f"{lake_root}/{SOURCES['customer_landing']}",
                        CUSTOMER_LANDING_SCHEMA)


def transform(customer_landing: DataFrame) -> DataFrame:
    """customer_trusted: the latest record per email, kept only with research consent."""
    require_columns(customer_landing, "customer_landing", CUSTOMER_LANDING_SCHEMA.fieldNames())
    return customer_landing.sparkSession.sql(CUSTOMER_TRUSTED_SQL,
                                             customer_landing=customer_landing)


def main() -> None:
    args = resolve_arguments(sys.argv)
    glue_context = GlueContext(SparkContext.getOrCreate())
    job = Job(glue_context)
    job.init(args["JOB_NAME"], args)

    customer_landing, quarantined = extract(glue_context.spark_session, args["lake_root"])
    load_quarantine(glue_context, quarantined, args["lake_root"], QUARANTINE)
    [(table_name, relative_path)] = TARGET.items()
    load(glue_context, transform(customer_landing), args["lake_root"], args["database"],
         table_name, relative_path)
    job.commit()


if __name__ == "__main__":
    main()
