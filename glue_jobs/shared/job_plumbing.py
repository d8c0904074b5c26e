"""Every job's plumbing: job arguments, required columns, and the load into a catalog table."""

from awsglue.context import GlueContext
from awsglue.dynamicframe import DynamicFrame
from awsglue.utils import getResolvedOptions
from pyspark.sql import DataFrame

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
