"""Machine learning curated (AWS Glue 5.0 job).

machine_learning_curated, grain: one row per pair of a step_trainer_trusted reading s and an
accelerometer_trusted reading a taken at the same instant (s.sensorReadingTime = a.timestamp).
Pseudonymous: no email, name, phone or birthday leaves this job, nor a serial number.

--ml_match device (default, correct): the pair must also belong to one customer, i.e. a
customer_curated row exists with email = a.user and serialNumber = s.serialNumber. Timestamps
are not unique across customers (439 are shared in the Udacity data), so without this test one
customer's phone is paired with another customer's step trainer.
--ml_match timestamp: the course rubric's join on time alone.

The ownership test is an EXISTS, never a join to customers, so it cannot multiply rows.

The step trainer is named by a pseudonymous device id, HMAC-SHA256(key, serialNumber) in hex,
never by its serial number, which joins straight back to customer_landing. The same device keeps
its id from run to run (models can still split by device), but without the key nobody can
recompute the id of a known serial number. The key lives outside the data: --device_key names
where, never holds it: "ssm:<parameter ARN>" (a SecureString the job's role may read; deploy
makes it) or "file:<path>" (locally, a file readable by its owner only). The key is read on the
driver and the ids of the few devices are computed there, so the key is in no query plan, log
or task.

Arguments: --JOB_NAME --lake_root --device_key [--database stedi]
[--consent_mode registered|since_consent] [--ml_match device|timestamp].
"""

import hashlib
import hmac
import os
import stat
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
DEVICE_IDS_SCHEMA = StructType([StructField("serialNumber", StringType()),
                                StructField("deviceId", StringType())])

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

devices as (
    select serialNumber, deviceId from {device_ids}
),

same_instant as (
    select
        step_readings.sensorReadingTime, step_readings.serialNumber,
        step_readings.distanceFromObject, phone_readings.user,
        phone_readings.x, phone_readings.y, phone_readings.z
    from step_readings
    inner join phone_readings on step_readings.sensorReadingTime = phone_readings.timestamp
),

paired as (
    select * from same_instant
    where not :match_device
        or exists (
            select 1 from owners
            where owners.email = same_instant.user
                and owners.serialNumber = same_instant.serialNumber
        )
),

final as (
    -- one id per serial number: the join renames, it cannot multiply or lose rows
    select /*+ broadcast(devices) */
        paired.sensorReadingTime, devices.deviceId, paired.distanceFromObject,
        paired.x, paired.y, paired.z
    from paired
    inner join devices on devices.serialNumber = paired.serialNumber
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


# --- shared block device_key: edit glue_jobs/shared/device_key.py, then `make glue-scripts`
class DeviceKeyError(RuntimeError):
    """The pseudonymisation key is missing, unreadable, too open or not a key."""


KEY_BYTES = 32  # HMAC-SHA256's block is 64 bytes; 32 random bytes are its full strength


def parse_device_key(text: str, where: str) -> bytes:
    """The key from its stored form, hexadecimal text; never echoes the text in an error."""
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        key = b""
    if len(key) < KEY_BYTES:
        raise DeviceKeyError(f"{where} does not hold a key of {KEY_BYTES} bytes in hexadecimal")
    return key


def read_key_file(path: str) -> bytes:
    """A local key file, refused when others may read it (as ssh refuses an open private key)."""
    try:
        mode = os.stat(path).st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise DeviceKeyError(f"device key file {path} is readable by others "
                                 f"(mode {stat.S_IMODE(mode):o}); chmod 600 it")
        with open(path, encoding="ascii") as key_file:
            return parse_device_key(key_file.read(), f"device key file {path}")
    except (OSError, UnicodeDecodeError) as error:
        raise DeviceKeyError(f"cannot read device key file {path}: {error}") from None


def read_ssm_key(parameter_arn: str) -> bytes:
    """A SecureString parameter of Systems Manager, named by its ARN, read with the job's role.

    The ARN carries the region, which a Glue job's environment may not. boto3 is one of the
    modules Glue provides every Python job; it is imported here only, so the local runtime,
    which reads key files, never needs it.
    """
    import boto3

    parts = parameter_arn.split(":", 5)
    if (len(parts) != 6 or parts[0] != "arn" or parts[2] != "ssm"
            or not parts[5].startswith("parameter/")):
        raise DeviceKeyError(f"not the ARN of an SSM parameter: {parameter_arn!r}")
    name = parts[5].removeprefix("parameter")  # a name starting with "/" keeps its one "/"
    response = boto3.client("ssm", region_name=parts[3]).get_parameter(Name=name,
                                                                       WithDecryption=True)
    return parse_device_key(response["Parameter"]["Value"], f"parameter {name}")


def read_device_key(locator: str) -> bytes:
    """The key named by --device_key: "ssm:<parameter ARN>" or "file:<path>"."""
    scheme, _, where = locator.partition(":")
    readers = {"ssm": read_ssm_key, "file": read_key_file}
    if scheme not in readers or not where:
        raise DeviceKeyError(f"--device_key must be ssm:<parameter ARN> or file:<path>, "
                             f"not {locator!r}")
    return readers[scheme](where)


def device_id(device_key: bytes, serial_number: str) -> str:
    """The pseudonymous id of one step trainer: HMAC-SHA256 of its serial number, in hex."""
    return hmac.new(device_key, serial_number.encode("utf-8"), hashlib.sha256).hexdigest()
# --- end of shared block device_key


def device_ids(customer_curated: DataFrame, device_key: bytes) -> DataFrame:
    """(serialNumber, deviceId) of every curated customer's device.

    Every step_trainer_trusted reading is of such a device (its zone rule), so this covers
    every row of the table. The devices are few (one per customer), so their ids are computed
    on the driver, where the key stays.
    """
    serials = sorted({row.serialNumber for row in
                      customer_curated.select("serialNumber").distinct().collect()
                      if row.serialNumber is not None})
    return customer_curated.sparkSession.createDataFrame(
        [(serial, device_id(device_key, serial)) for serial in serials], DEVICE_IDS_SCHEMA)


def transform(step_trainer_trusted: DataFrame, accelerometer_trusted: DataFrame,
              customer_curated: DataFrame, device_key: bytes,
              ml_match: str = "device") -> DataFrame:
    """machine_learning_curated: same-instant pairs, of one owner unless ml_match is timestamp,
    with each step trainer named by its pseudonymous device id."""
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
        device_ids=device_ids(customer_curated, device_key),
    )


def main() -> None:
    args = resolve_arguments(sys.argv)
    device_key = read_device_key(getResolvedOptions(sys.argv, ["device_key"])["device_key"])
    glue_context = GlueContext(SparkContext.getOrCreate())
    job = Job(glue_context)
    job.init(args["JOB_NAME"], args)

    step_trainer_trusted, accelerometer_trusted, customer_curated = extract(glue_context,
                                                                            args["lake_root"])
    [(table_name, relative_path)] = TARGET.items()
    load(glue_context,
         transform(step_trainer_trusted, accelerometer_trusted, customer_curated, device_key,
                   args["ml_match"]),
         args["lake_root"], args["database"], table_name, relative_path)
    job.commit()


if __name__ == "__main__":
    main()
