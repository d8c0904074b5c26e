"""Reading a zone that another job of the pipeline wrote, with the schema the reader expects."""

from awsglue.context import GlueContext
from pyspark.sql import DataFrame
from pyspark.sql.types import StructType

from glue_jobs.shared.job_plumbing import hadoop_file, zone_marker


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
