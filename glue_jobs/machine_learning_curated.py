"""Machine learning curated (AWS Glue job: Glue 5.0, 5.1, 6.0 and 6.1).

machine_learning_curated, grain: one row per pair of a step_trainer_trusted reading s and an
accelerometer_trusted reading a taken at the same instant (s.sensorReadingTime = a.timestamp).
Pseudonymous: no email, name, phone or birthday leaves this job, nor a serial number.

--ml_match device (default, correct): the pair must also belong to one customer, i.e. a
customer_curated row exists with email = a.user and serialNumber = s.serialNumber. Timestamps
are not unique across customers (439 are shared in the Udacity data), so without this test one
customer's phone is paired with another customer's step trainer.
--ml_match timestamp: the course rubric's join on time alone.

With device, the join key is (instant, owner): linear in the readings however many devices
share an instant, and no pair is counted twice (a pair can meet only its one owner row, and
the owners are distinct). With
timestamp, an instant shared by k devices makes k * k pairs: fine for the course data, quadratic
for a fleet on one clock (the bench's fleet at scale 100, about 50 consenting devices an
instant: 190,546,936 rows in 190 s, where device gives 3,888,529 rows in 12 s).

The step trainer is named by a pseudonymous device id, HMAC-SHA256(key, serialNumber) in hex,
never by its serial number, which joins straight back to customer_landing. The same device keeps
its id from run to run (models can still split by device), but without the key nobody can
recompute the id of a known serial number. The key lives outside the data: --device_key names
where, never holds it: "ssm:<parameter ARN>" (a SecureString the job's role may read; deploy
makes it, or two CloudShell commands of docs/glue-studio.md, "The device-id key"),
"s3://<bucket>/<object>" (where SSM is not allowed; whoever may read the object may re-identify
devices) or "file:<path>" (locally, a file readable by its owner only). Without a usable key
the job stops at once with one line naming the fix. The key is read on the driver and the ids
of the few devices are computed there, so the key is in no query plan, log or task.

Arguments: --JOB_NAME --lake_root --device_key [--database stedi]
[--consent_mode registered|since_consent] [--ml_match device|timestamp].
"""

import datetime
import hashlib
import hmac
import os
import stat
import sys

from awsglue.context import GlueContext
from awsglue.dynamicframe import DynamicFrame
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from awsgluedq.transforms import EvaluateDataQuality
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

# The SQL is assembled from three parts: the inputs, the pairing the option asks for, the output.
INPUTS_SQL = """
with step_readings as (
    select sensorReadingTime, serialNumber, distanceFromObject from {step_trainer_trusted}
),

phone_readings as (
    select user, timestamp, x, y, z from {accelerometer_trusted}
),

devices as (
    select serialNumber, deviceId from {device_ids}
),
"""

# ml_match=device: the owner is part of the join key. Each step reading first meets its
# owners (by serial number), then only the phone readings of that owner at that instant: an
# equi-join on (instant, owner), linear in the readings. Joining on the instant alone and
# testing ownership afterwards makes k * k candidate pairs at an instant shared by k devices,
# which a fleet sampling on one clock does at every instant (docs/zones.md, "Fleet scale: when
# devices share instants").
# Same rows as "pairs on the instant whose owner exists": a pair (s, a) can only meet the owner
# row (a.user, s.serialNumber), and the owners are distinct, so it meets it once or not at all.
SAME_OWNER_PAIRS_SQL = """
owners as (
    select distinct email, serialNumber from {customer_curated}
),

owned_step_readings as (
    select step_readings.*, owners.email as owner
    from step_readings
    inner join owners on owners.serialNumber = step_readings.serialNumber
),

paired as (
    select
        owned_step_readings.sensorReadingTime, owned_step_readings.serialNumber,
        owned_step_readings.distanceFromObject,
        phone_readings.x, phone_readings.y, phone_readings.z
    from owned_step_readings
    inner join phone_readings
        on phone_readings.timestamp = owned_step_readings.sensorReadingTime
        and phone_readings.user = owned_step_readings.owner
),
"""

# ml_match=timestamp, the course rubric's join: the instant alone. Where k devices share an
# instant, each of its step readings pairs with the phone readings of all k: the output, and
# the time, grow with k * k (docs/zones.md, "Fleet scale: when devices share instants" measures it).
SAME_INSTANT_PAIRS_SQL = """
paired as (
    select
        step_readings.sensorReadingTime, step_readings.serialNumber,
        step_readings.distanceFromObject,
        phone_readings.x, phone_readings.y, phone_readings.z
    from step_readings
    inner join phone_readings on step_readings.sensorReadingTime = phone_readings.timestamp
),
"""

OUTPUT_SQL = """
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

MACHINE_LEARNING_CURATED_SQL = {
    "device": INPUTS_SQL + SAME_OWNER_PAIRS_SQL + OUTPUT_SQL,
    "timestamp": INPUTS_SQL + SAME_INSTANT_PAIRS_SQL + OUTPUT_SQL,
}


def extract(glue_context: GlueContext, lake_root: str) -> tuple[DataFrame, DataFrame, DataFrame]:
    """(step_trainer_trusted, accelerometer_trusted, customer_curated)."""
    return tuple(read_zone(glue_context, lake_root, name, SOURCES[name], ZONE_SCHEMAS[name])
                 for name in ("step_trainer_trusted", "accelerometer_trusted",
                              "customer_curated"))


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
        MACHINE_LEARNING_CURATED_SQL[ml_match],
        step_trainer_trusted=step_trainer_trusted,
        accelerometer_trusted=accelerometer_trusted,
        customer_curated=customer_curated,
        device_ids=device_ids(customer_curated, device_key),
    )


def main() -> None:
    args = resolve_arguments(sys.argv)
    device_key = read_device_key(device_key_argument(sys.argv))
    glue_context = GlueContext(SparkContext.getOrCreate())
    job = Job(glue_context)
    job.init(args["JOB_NAME"], args)

    step_trainer_trusted, accelerometer_trusted, customer_curated = extract(glue_context,
                                                                            args["lake_root"])
    [(table_name, relative_path)] = TARGET.items()
    # No key: one row per matched pair of readings (docs/design.md, "Zone rules").
    machine_learning_curated = gate_table(
        glue_context, args, table_name, relative_path,
        transform(step_trainer_trusted, accelerometer_trusted, customer_curated, device_key,
                  args["ml_match"]), [])
    load(glue_context, machine_learning_curated, args["lake_root"], args["database"],
         table_name, relative_path)
    job.commit()


# --- shared block job_plumbing: edit glue_jobs/shared/job_plumbing.py, then `make glue-scripts`
# With the data-quality gates' (glue_jobs/shared/quality_gate.py; docs/design.md,
# "Data-quality gates").
OPTIONAL_ARGUMENTS = {"database": "stedi", "consent_mode": "registered", "ml_match": "device",
                      "dq_history": "3", "dq_min_ratio": "0.5", "dq_max_ratio": "2",
                      "dq_max_reject_rate": "0.5", "dq_override": "false"}
ALLOWED_VALUES = {"consent_mode": ("registered", "since_consent"),
                  "ml_match": ("device", "timestamp"),
                  "dq_override": ("true", "false")}


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


# --- shared block device_key: edit glue_jobs/shared/device_key.py, then `make glue-scripts`
class DeviceKeyError(RuntimeError):
    """The pseudonymisation key is missing, unreadable, too open or not a key."""


KEY_BYTES = 32  # HMAC-SHA256's block is 64 bytes; 32 random bytes are its full strength
# Where a person is told how to make the key and let the job read it.
HOW_TO = 'docs/glue-studio.md, "The device-id key"'
LOCATORS = "ssm:<parameter ARN>, s3://<bucket>/<object> or file:<path>"
# A key object is 64 hex digits and a line end: a far larger one is not read whole.
MOST_KEY_BYTES = 4096


def device_key_argument(argv: list[str]) -> str:
    """The value of --device_key among Glue's ``sys.argv`` (name and value are two items, as
    Glue passes them), refused with the fix when it is not there."""
    for position, item in enumerate(argv[:-1]):
        if item == "--device_key":
            return argv[position + 1]
    raise DeviceKeyError(
        "--device_key is missing: add the job parameter --device_key ssm:<parameter ARN> (or "
        "s3://<bucket>/<object>; locally file:<path>, which python -m scripts.local_key "
        f"prints); {HOW_TO} shows how to make the key")


def parse_device_key(text: str, where: str) -> bytes:
    """The key from its stored form, hexadecimal text; never echoes the text in an error."""
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        key = b""
    if len(key) < KEY_BYTES:
        raise DeviceKeyError(f"{where} does not hold a key of {KEY_BYTES} bytes in hexadecimal: "
                             f"put one there, made with openssl rand -hex {KEY_BYTES} ({HOW_TO})")
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
    except FileNotFoundError:
        raise DeviceKeyError(f"device key file {path} does not exist: make it with "
                             f"python -m scripts.local_key --file {path}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise DeviceKeyError(f"cannot read device key file {path}: {error}") from None


def aws_errors() -> tuple[type[Exception], ...]:
    """botocore's errors, imported only when a read in AWS failed (boto3 brings botocore)."""
    from botocore.exceptions import BotoCoreError, ClientError

    return BotoCoreError, ClientError


def aws_error(error: Exception) -> tuple[str, str]:
    """(code, message) of a botocore error: AWS's error code, or the class name of an error
    raised before AWS answered (no credentials, no connection)."""
    response = getattr(error, "response", None) or {}
    details = response.get("Error", {})
    code = str(details.get("Code") or type(error).__name__)
    return code, str(details.get("Message") or error).splitlines()[0][:300]


def aws_failure(what: str, permission: str, error: Exception) -> DeviceKeyError:
    """A failed read of the key in AWS, with the fix for the usual causes."""
    code, message = aws_error(error)
    if code in ("AccessDenied", "AccessDeniedException", "403", "Forbidden"):
        fix = f"the job's role needs {permission} on it ({HOW_TO}); AWS says: {message}"
    elif code in ("NoCredentialsError", "PartialCredentialsError"):
        fix = "no AWS credentials here: run the job in Glue, whose role reads it"
    else:
        fix = f"{code}: {message}"
    return DeviceKeyError(f"cannot read the device-id key {what}: {fix}")


def read_ssm_key(parameter_arn: str, client=None) -> bytes:
    """A SecureString parameter of Systems Manager, named by its ARN, read with the job's role.

    The ARN carries the region, which a Glue job's environment may not. boto3 is one of the
    modules Glue provides every Python job; it is imported here only, so the local runtime,
    which reads key files, never needs it. ``client``: an SSM client to use instead.
    """
    parts = parameter_arn.split(":", 5)
    if (len(parts) != 6 or parts[0] != "arn" or parts[2] != "ssm"
            or not parts[5].startswith("parameter/")):
        raise DeviceKeyError(f"not the ARN of an SSM parameter: {parameter_arn!r}; pass "
                             "ssm:arn:aws:ssm:<region>:<account>:parameter/<name> "
                             f"({HOW_TO})")
    name = parts[5].removeprefix("parameter")  # a name starting with "/" keeps its one "/"
    try:
        if client is None:
            import boto3

            client = boto3.client("ssm", region_name=parts[3])
        response = client.get_parameter(Name=name, WithDecryption=True)
    except aws_errors() as error:
        if aws_error(error)[0] == "ParameterNotFound":
            raise DeviceKeyError(
                f"SSM parameter {name} does not exist in region {parts[3]} of account "
                f"{parts[4]}: make it with aws ssm put-parameter ({HOW_TO})") from None
        raise aws_failure(f"SSM parameter {parameter_arn}", "ssm:GetParameter",
                          error) from None
    return parse_device_key(response["Parameter"]["Value"], f"SSM parameter {name}")


def read_s3_key(url: str, client=None) -> bytes:
    """An S3 object holding the key, read with the job's role (boto3, on the driver).

    For accounts where SSM is not allowed. Anyone who may read the object (s3:GetObject on it,
    which broad read policies grant) may read the key. ``client``: an S3 client to use instead.
    """
    bucket, _, key = url.removeprefix("s3://").partition("/")
    if not bucket or not key or key.endswith("/"):
        raise DeviceKeyError(f"not the URL of an S3 object: {url!r}; pass "
                             f"s3://<bucket>/<object> ({HOW_TO})")
    try:
        if client is None:
            import boto3

            client = boto3.client("s3")
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
        stored = body.read(MOST_KEY_BYTES + 1)  # more than a key holds: not a key
    except aws_errors() as error:
        code = aws_error(error)[0]
        if code in ("NoSuchKey", "NoSuchBucket", "404"):
            missing = "bucket" if code == "NoSuchBucket" else "object"
            raise DeviceKeyError(f"device key {url} does not exist (no such {missing}): put "
                                 f"the key there ({HOW_TO})") from None
        raise aws_failure(url, "s3:GetObject (S3 denies a missing object too, to a role "
                               "that may not list the bucket)", error) from None
    try:
        text = stored.decode("ascii") if len(stored) <= MOST_KEY_BYTES else ""
    except UnicodeDecodeError:
        text = ""
    return parse_device_key(text, f"device key {url}")


def read_device_key(locator: str) -> bytes:
    """The key named by --device_key: "ssm:<parameter ARN>", "s3://<bucket>/<object>" or
    "file:<path>"."""
    if locator.startswith("s3://"):
        return read_s3_key(locator)
    scheme, _, where = locator.partition(":")
    readers = {"ssm": read_ssm_key, "file": read_key_file}
    if scheme in readers and where:
        return readers[scheme](where)
    try:
        looks_like_a_key = len(bytes.fromhex(locator.strip())) >= KEY_BYTES
    except ValueError:
        looks_like_a_key = False
    given = "the key itself: pass where it is, never the key" if looks_like_a_key else repr(locator)
    raise DeviceKeyError(f"--device_key must be {LOCATORS}, not {given} ({HOW_TO})")


def device_id(device_key: bytes, serial_number: str) -> str:
    """The pseudonymous id of one step trainer: HMAC-SHA256 of its serial number, in hex."""
    return hmac.new(device_key, serial_number.encode("utf-8"), hashlib.sha256).hexdigest()
# --- end of shared block device_key


# --- shared block quality_gate: edit glue_jobs/shared/quality_gate.py, then `make glue-scripts`
# The gates' job arguments and their defaults are job_plumbing's OPTIONAL_ARGUMENTS: dq_history
# (the earlier runs a dynamic rule averages), dq_min_ratio and dq_max_ratio (how far a table may
# shrink or grow against them), dq_max_reject_rate (the share of landing records that may be
# quarantined) and dq_override ("true": publish what fails, and log it).


# Every gate's rule results are appended under the lake root here: the catalog table
# data_quality_results (athena_ddl/data_quality_results.sql), queried in Athena and by make query.
RESULTS_PATH = "data_quality/results"
RESULTS_SCHEMA = ("evaluated_at timestamp, job_name string, job_run_id string, "
                  "evaluation_context string, rule string, outcome string, failure_reason string, "
                  "evaluated_metrics map<string,double>, dq_override boolean")


class DataQualityGateError(RuntimeError):
    """Data that fails its gate: nothing was published."""


def number_argument(args: dict[str, str], name: str) -> str:
    """A gate argument as a DQDL number (digits, one point), or ValueError naming it."""
    text = args[name].strip()
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value < 0 or not text.replace(".", "", 1).isdigit():
        raise ValueError(f"--{name} must be a number of 0 or more, not {args[name]!r}")
    return text


def row_count_rules(args: dict[str, str]) -> list[str]:
    """The rows against the recent history. With no history DQDL's last(k) is 0.0, which no
    row count stays under, and DQDL has no test of "no history yet": the growth rule passes
    too when ColumnCount > max(last(1)), which a table's fixed columns meet on its first
    evaluation only."""
    recent = f"avg(last({int(number_argument(args, 'dq_history'))}))"
    return [f"RowCount >= {recent} * {number_argument(args, 'dq_min_ratio')}",
            f"(RowCount <= {recent} * {number_argument(args, 'dq_max_ratio')}) or "
            "(ColumnCount > max(last(1)))"]


def table_rules(key_columns: list[str], columns: list[str], args: dict[str, str]) -> list[str]:
    """Of a table about to be published (its ``columns``): its grain unique where it has a key
    (a table of no rows has no duplicate), and its row count. A key is also complete
    (IsPrimaryKey), unless it is every column: the grain is then the distinct rows, of readings
    that may lack a measured value (a null x), so the rows must be unique (Uniqueness, which
    like Glue's leaves out the rows with a null among the columns), not complete."""
    quoted = " ".join(f'"{name}"' for name in key_columns)
    distinct_rows = sorted(key_columns) == sorted(columns)
    grain = f"Uniqueness {quoted} = 1.0" if distinct_rows else f"IsPrimaryKey {quoted}"
    key_rule = [f"({grain}) or (RowCount = 0)"] if key_columns else []
    return key_rule + row_count_rules(args)


def measured(failure_reason: str) -> str:
    """Glue's failure reason, short: "measured 0.0" of "Value: 0.0 does not meet the
    constraint requirement!"; other reasons (a missing column) as they are."""
    prefix, _, rest = failure_reason.partition("Value: ")
    if prefix or " does not meet" not in rest:
        return failure_reason
    return f"measured {rest.split(' does not meet')[0]}"


def record_results(glue_context: GlueContext, args: dict[str, str], context: str,
                   results: list[dict]) -> None:
    """Append an evaluation's rule results to data_quality_results, one small Parquet file per
    evaluation. Written before the gate acts on them, so that a stopped run's reasons are there
    for Athena as much as a green run's; the rows come from the collected results, so the
    evaluation runs once."""
    evaluated_at = datetime.datetime.now(datetime.timezone.utc)
    rows = [(evaluated_at, args["JOB_NAME"], args.get("JOB_RUN_ID"), context, result["Rule"],
             result["Outcome"], result["FailureReason"], result["EvaluatedMetrics"],
             args["dq_override"] == "true") for result in results]
    spark = glue_context.spark_session
    spark.createDataFrame(rows, RESULTS_SCHEMA).coalesce(1).write.mode("append").parquet(
        f"{args['lake_root']}/{RESULTS_PATH}/")


def check_gate(glue_context: GlueContext, frame: DataFrame, context: str, rules: list[str],
               args: dict[str, str]) -> list[dict]:
    """Evaluate the rules on the frame (Glue Data Quality, results under ``context``); raise
    DataQualityGateError naming the failed rules unless --dq_override is true."""
    ruleset = "Rules = [\n    " + ",\n    ".join(rules) + "\n]"
    evaluated = EvaluateDataQuality.apply(
        frame=DynamicFrame.fromDF(frame, glue_context, context), ruleset=ruleset,
        publishing_options={"dataQualityEvaluationContext": context,
                            "enableDataQualityCloudWatchMetrics": True,
                            "enableDataQualityResultsPublishing": True})
    results = [row.asDict() for row in evaluated.toDF().collect()]
    record_results(glue_context, args, context, results)
    logger = glue_context.get_logger()
    failed = [result for result in results if result["Outcome"] != "Passed"]
    for result in results:
        logger.info(f"data quality {context}: {result['Outcome']}: {result['Rule']}"
                    + (f" ({result['FailureReason']})" if result["FailureReason"] else ""))
    if failed and args["dq_override"] != "true":
        reasons = "; ".join(f"{result['Rule']} ({measured(result['FailureReason'])})"
                            for result in failed)
        raise DataQualityGateError(
            f"data-quality gate {context} failed, nothing was published: {reasons}; if the "
            "change is meant, run again with --dq_override true")
    if failed:
        logger.warn(f"data quality {context}: {len(failed)} failed rules overridden "
                    "(--dq_override true): published anyway")
    return results


def gate_table(glue_context: GlueContext, args: dict[str, str], table_name: str,
               relative_path: str, frame: DataFrame, key_columns: list[str]) -> DataFrame:
    """The gate of the table the job is about to publish; returns the frame, kept for the
    write. Its history is per option pair: the options change what the table holds."""
    kept = frame.persist()
    rules = table_rules(key_columns, kept.columns, args)
    check_gate(glue_context, kept, f"{args['database']}.{table_name}.{args['consent_mode']}."
                                   f"{args['ml_match']}", rules, args)
    return kept
# --- end of shared block quality_gate


if __name__ == "__main__":
    main()
