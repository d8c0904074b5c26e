"""Customer trusted -> curated (AWS Glue job: Glue 5.0, 5.1, 6.0 and 6.1).

customer_curated, grain: one row per email (key: email). The trusted customers who have at
least one reading in accelerometer_trusted: only they can be paired with step trainer data.
Customer columns only; a semi join, so a customer with many readings is still one row.

Arguments: --JOB_NAME --lake_root [--database stedi] [--consent_mode registered|since_consent]
[--ml_match device|timestamp]; the consent mode acts through accelerometer_trusted.
"""

import datetime
import sys

from awsglue.context import GlueContext
from awsglue.dynamicframe import DynamicFrame
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from awsgluedq.transforms import EvaluateDataQuality
from pyspark.context import SparkContext
from pyspark.sql import DataFrame
from pyspark.sql.types import LongType, StringType, StructField, StructType

SOURCES = {"customer_trusted": "customer/trusted",
           "accelerometer_trusted": "accelerometer/trusted"}
TARGET = {"customer_curated": "customer/curated"}

# The columns this job reads from each upstream zone, with their types: zones are read with
# this schema, never one inferred from their files (an empty zone may have none).
ZONE_SCHEMAS = {
    "customer_trusted": StructType([
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
    ]),
    "accelerometer_trusted": StructType([StructField("user", StringType())]),
}

CUSTOMER_CURATED_SQL = """
with trusted_customers as (
    select * from {customer_trusted}
),

readings as (
    select user from {accelerometer_trusted}
),

final as (
    select
        trusted_customers.customerName, trusted_customers.email, trusted_customers.phone,
        trusted_customers.birthDay, trusted_customers.serialNumber,
        trusted_customers.registrationDate, trusted_customers.lastUpdateDate,
        trusted_customers.shareWithResearchAsOfDate, trusted_customers.shareWithPublicAsOfDate,
        trusted_customers.shareWithFriendsAsOfDate
    from trusted_customers
    left semi join readings on trusted_customers.email = readings.user
)

select * from final
"""


def extract(glue_context: GlueContext, lake_root: str) -> tuple[DataFrame, DataFrame]:
    """(customer_trusted, accelerometer_trusted)."""
    return tuple(read_zone(glue_context, lake_root, name, SOURCES[name], ZONE_SCHEMAS[name])
                 for name in ("customer_trusted", "accelerometer_trusted"))


def transform(customer_trusted: DataFrame, accelerometer_trusted: DataFrame) -> DataFrame:
    """customer_curated: trusted customers with at least one trusted reading."""
    require_columns(customer_trusted, "customer_trusted",
                    ZONE_SCHEMAS["customer_trusted"].fieldNames())
    require_columns(accelerometer_trusted, "accelerometer_trusted",
                    ZONE_SCHEMAS["accelerometer_trusted"].fieldNames())
    return customer_trusted.sparkSession.sql(CUSTOMER_CURATED_SQL,
                                             customer_trusted=customer_trusted,
                                             accelerometer_trusted=accelerometer_trusted)


def main() -> None:
    args = resolve_arguments(sys.argv)
    glue_context = GlueContext(SparkContext.getOrCreate())
    job = Job(glue_context)
    job.init(args["JOB_NAME"], args)

    customer_trusted, accelerometer_trusted = extract(glue_context, args["lake_root"])
    [(table_name, relative_path)] = TARGET.items()
    customer_curated = gate_table(glue_context, args, table_name, relative_path,
                                  transform(customer_trusted, accelerometer_trusted), ["email"])
    load(glue_context, customer_curated, args["lake_root"], args["database"], table_name,
         relative_path)
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
