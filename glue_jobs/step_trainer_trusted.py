"""Step trainer landing -> trusted (AWS Glue 5.0 job).

step_trainer_trusted, grain: one row per distinct reading (sensorReadingTime, serialNumber,
distanceFromObject). Keeps the readings of devices that belong to a customer in customer_curated
(consenting customers with phone data); with --consent_mode since_consent only readings taken at
or after the consent date of such an owner. Exact duplicate rows are removed. Step trainer
columns only; ownership is an existence test, so a serial number shared by several customers
never multiplies readings.

Lines of the landing zone that are not JSON objects of the schema go to step_trainer/quarantine.

Arguments: --JOB_NAME --lake_root [--database stedi] [--consent_mode registered|since_consent]
[--ml_match device|timestamp].
"""

import sys

from awsglue.context import GlueContext
from awsglue.dynamicframe import DynamicFrame
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.functions import col, input_file_name, lit
from pyspark.sql.types import IntegerType, LongType, StringType, StructField, StructType

SOURCES = {"step_trainer_landing": "step_trainer/landing",
           "customer_curated": "customer/curated"}
TARGET = {"step_trainer_trusted": "step_trainer/trusted"}
QUARANTINE = "step_trainer/quarantine"

STEP_TRAINER_LANDING_SCHEMA = StructType([
    StructField("sensorReadingTime", LongType()),
    StructField("serialNumber", StringType()),
    StructField("distanceFromObject", IntegerType()),
])
CUSTOMER_COLUMNS_USED = ["serialNumber", "shareWithResearchAsOfDate"]

STEP_TRAINER_TRUSTED_SQL = """
with readings as (
    select * from {step_trainer_landing}
),

device_owners as (
    select serialNumber, shareWithResearchAsOfDate as consented_at
    from {customer_curated}
),

owned_readings as (
    select readings.sensorReadingTime, readings.serialNumber, readings.distanceFromObject
    from readings
    left semi join device_owners
        on readings.serialNumber = device_owners.serialNumber
        and (not :since_consent or readings.sensorReadingTime >= device_owners.consented_at)
),

final as (
    select distinct sensorReadingTime, serialNumber, distanceFromObject
    from owned_readings
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


def extract(glue_context: GlueContext, lake_root: str) -> tuple[DataFrame, DataFrame, DataFrame]:
    """(step trainer landing rows, quarantined landing lines, customer_curated)."""
    accepted, quarantined = read_landing(glue_context.spark_session,
                                         f"{lake_root}/{SOURCES['step_trainer_landing']}",
                                         STEP_TRAINER_LANDING_SCHEMA)
    return accepted, quarantined, read_zone(glue_context, lake_root,
                                            SOURCES["customer_curated"])


def transform(step_trainer_landing: DataFrame, customer_curated: DataFrame,
              consent_mode: str = "registered") -> DataFrame:
    """step_trainer_trusted: distinct readings of curated customers' devices."""
    require_columns(step_trainer_landing, "step_trainer_landing",
                    STEP_TRAINER_LANDING_SCHEMA.fieldNames())
    require_columns(customer_curated, "customer_curated", CUSTOMER_COLUMNS_USED)
    return step_trainer_landing.sparkSession.sql(
        STEP_TRAINER_TRUSTED_SQL,
        args={"since_consent": consent_mode == "since_consent"},
        step_trainer_landing=step_trainer_landing,
        customer_curated=customer_curated,
    )


def main() -> None:
    args = resolve_arguments(sys.argv)
    glue_context = GlueContext(SparkContext.getOrCreate())
    job = Job(glue_context)
    job.init(args["JOB_NAME"], args)

    step_trainer_landing, quarantined, customer_curated = extract(glue_context,
                                                                  args["lake_root"])
    load_quarantine(glue_context, quarantined, args["lake_root"], QUARANTINE)
    [(table_name, relative_path)] = TARGET.items()
    load(glue_context, transform(step_trainer_landing, customer_curated, args["consent_mode"]),
         args["lake_root"], args["database"], table_name, relative_path)
    job.commit()


if __name__ == "__main__":
    main()
