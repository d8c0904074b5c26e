"""Machine learning curated (AWS Glue 5.0 job).

machine_learning_curated, grain: one row per pair of a step_trainer_trusted reading s and an
accelerometer_trusted reading a taken at the same instant (s.sensorReadingTime = a.timestamp).
Anonymised: no email, name, phone or birthday leaves this job.

--ml_match device (default, correct): the pair must also belong to one customer, i.e. a
customer_curated row exists with email = a.user and serialNumber = s.serialNumber. Timestamps
are not unique across customers (439 are shared in the Udacity data), so without this test one
customer's phone is paired with another customer's step trainer.
--ml_match timestamp: the course rubric's join on time alone.

The ownership test is an EXISTS, never a join to customers, so it cannot multiply rows.

Arguments: --JOB_NAME --lake_root [--database stedi] [--consent_mode registered|since_consent]
[--ml_match device|timestamp].
"""

import sys

from awsglue.context import GlueContext
from awsglue.dynamicframe import DynamicFrame
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import DataFrame
from pyspark.sql.types import DoubleType, IntegerType, LongType, StringType, StructField, StructType

SOURCES = {"step_trainer_trusted": "step_trainer/trusted",
           "accelerometer_trusted": "accelerometer/trusted",
           "customer_curated": "customer/curated"}
TARGET = {"machine_learning_curated": "step_trainer/curated"}
# The columns this job reads from each upstream zone, with their types: zones are read with
# this schema, never one inferred from their files (an empty zone may have none).
ZONE_SCHEMAS = {
    "step_trainer_trusted": StructType([
        StructField("sensorReadingTime", LongType()),
        StructField("serialNumber", StringType()),
        StructField("distanceFromObject", IntegerType()),
    ]),
    "accelerometer_trusted": StructType([
        StructField("user", StringType()),
        StructField("timestamp", LongType()),
        StructField("x", DoubleType()),
        StructField("y", DoubleType()),
        StructField("z", DoubleType()),
    ]),
    "customer_curated": StructType([
        StructField("email", StringType()),
        StructField("serialNumber", StringType()),
    ]),
}

MACHINE_LEARNING_CURATED_SQL = """
with step_readings as (
    select sensorReadingTime, serialNumber, distanceFromObject from {step_trainer_trusted}
),

phone_readings as (
    select user, timestamp, x, y, z from {accelerometer_trusted}
),

owners as (
    select email, serialNumber from {customer_curated}
),

same_instant as (
    select
        step_readings.sensorReadingTime, step_readings.serialNumber,
        step_readings.distanceFromObject, phone_readings.user,
        phone_readings.x, phone_readings.y, phone_readings.z
    from step_readings
    inner join phone_readings on step_readings.sensorReadingTime = phone_readings.timestamp
),

final as (
    select sensorReadingTime, serialNumber, distanceFromObject, x, y, z
    from same_instant
    where not :match_device
        or exists (
            select 1 from owners
            where owners.email = same_instant.user
                and owners.serialNumber = same_instant.serialNumber
        )
)

select * from final
"""

# --- shared block job_plumbing: edit glue_jobs/shared/job_plumbing.py, then `make glue-scripts`
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


def hadoop_file(glue_context: GlueContext, location: str):
    """(Hadoop path, file system) of a single file of the lake.

    Hadoop's file system API reaches S3 and local disk alike, through the session's own
    configuration and credentials, so the jobs need no AWS SDK for their small files.
    """
    spark_context = glue_context.spark_session.sparkContext
    path = spark_context._jvm.org.apache.hadoop.fs.Path(location)
    return path, path.getFileSystem(spark_context._jsc.hadoopConfiguration())


def zone_marker(glue_context: GlueContext, lake_root: str, table_name: str):
    """(Hadoop path, file system) of the marker saying a table's zone is being rewritten.

    Markers live outside the zones, so Athena and the purge never see them.
    """
    return hadoop_file(glue_context, f"{lake_root}/_incomplete/{table_name}")


def load(glue_context: GlueContext, frame: DataFrame, lake_root: str, database: str,
         table_name: str, relative_path: str) -> None:
    """Replace the table's files and update its catalog entry.

    The purge comes first so that a re-run never duplicates rows (retentionPeriod 0: Glue's
    default keeps files of the past week). From the purge until the catalog update the zone is
    marked incomplete; a failure in between leaves the mark, and later jobs refuse to read it.
    """
    path = f"{lake_root}/{relative_path}/"
    marker, file_system = zone_marker(glue_context, lake_root, table_name)
    file_system.create(marker, True).close()
    glue_context.purge_s3_path(path, options={"retentionPeriod": 0})
    sink = glue_context.getSink(connection_type="s3", path=path, enableUpdateCatalog=True,
                                updateBehavior="UPDATE_IN_DATABASE", partitionKeys=[])
    sink.setCatalogInfo(catalogDatabase=database, catalogTableName=table_name)
    sink.setFormat("glueparquet", compression="snappy")
    sink.writeFrame(DynamicFrame.fromDF(frame, glue_context, table_name))
    file_system.delete(marker, False)
# --- end of shared block job_plumbing


# --- shared block zone_reader: edit glue_jobs/shared/zone_reader.py, then `make glue-scripts`
class IncompleteZoneError(RuntimeError):
    """An input zone was left half-written by a job that failed."""


def read_zone(glue_context: GlueContext, lake_root: str, table_name: str, relative_path: str,
              schema: StructType) -> DataFrame:
    """The columns of ``schema`` from an upstream zone written by another job of this pipeline
    (Snappy Parquet); refused while the job writing it has not finished, so a failure never
    passes on a half-written zone.

    Read with the schema given, never one inferred from the files: Glue's writer may write no
    file at all for an empty frame (and S3 has no folders), so an empty zone is still a table
    with its columns, of 0 rows.
    """
    marker, file_system = zone_marker(glue_context, lake_root, table_name)
    if file_system.exists(marker):
        raise IncompleteZoneError(f"{table_name} is incomplete: the job writing it failed "
                                  "mid-way; run that job again first")
    location = f"{lake_root}/{relative_path}/"
    spark = glue_context.spark_session
    folder, file_system = hadoop_file(glue_context, location)
    if not file_system.exists(folder):
        return spark.createDataFrame([], schema)
    return spark.read.schema(schema).option("recursiveFileLookup", "true").parquet(location)
# --- end of shared block zone_reader


def extract(glue_context: GlueContext, lake_root: str) -> tuple[DataFrame, DataFrame, DataFrame]:
    """(step_trainer_trusted, accelerometer_trusted, customer_curated)."""
    return tuple(read_zone(glue_context, lake_root, name, SOURCES[name], ZONE_SCHEMAS[name])
                 for name in ("step_trainer_trusted", "accelerometer_trusted",
                              "customer_curated"))


def transform(step_trainer_trusted: DataFrame, accelerometer_trusted: DataFrame,
              customer_curated: DataFrame, ml_match: str = "device") -> DataFrame:
    """machine_learning_curated: same-instant pairs, of one owner unless ml_match is timestamp."""
    inputs = {"step_trainer_trusted": step_trainer_trusted,
              "accelerometer_trusted": accelerometer_trusted,
              "customer_curated": customer_curated}
    for name, frame in inputs.items():
        require_columns(frame, name, ZONE_SCHEMAS[name].fieldNames())
    return step_trainer_trusted.sparkSession.sql(
        MACHINE_LEARNING_CURATED_SQL,
        args={"match_device": ml_match == "device"},
        step_trainer_trusted=step_trainer_trusted,
        accelerometer_trusted=accelerometer_trusted,
        customer_curated=customer_curated,
    )


def main() -> None:
    args = resolve_arguments(sys.argv)
    glue_context = GlueContext(SparkContext.getOrCreate())
    job = Job(glue_context)
    job.init(args["JOB_NAME"], args)

    step_trainer_trusted, accelerometer_trusted, customer_curated = extract(glue_context,
                                                                            args["lake_root"])
    [(table_name, relative_path)] = TARGET.items()
    load(glue_context,
         transform(step_trainer_trusted, accelerometer_trusted, customer_curated,
                   args["ml_match"]),
         args["lake_root"], args["database"], table_name, relative_path)
    job.commit()


if __name__ == "__main__":
    main()
