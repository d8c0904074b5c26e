"""Reading a zone that another job of the pipeline wrote, refused while it is half-written."""

from awsglue.context import GlueContext
from pyspark.sql import DataFrame

from glue_jobs.shared.job_plumbing import zone_marker


class IncompleteZoneError(RuntimeError):
    """An input zone was left half-written by a job that failed."""


def read_zone(glue_context: GlueContext, lake_root: str, table_name: str,
              relative_path: str) -> DataFrame:
    """An upstream zone written by another job of this pipeline (Snappy Parquet); refused while
    the job writing it has not finished, so a failure never passes on a half-written zone."""
    marker, file_system = zone_marker(glue_context, lake_root, table_name)
    if file_system.exists(marker):
        raise IncompleteZoneError(f"{table_name} is incomplete: the job writing it failed "
                                  "mid-way; run that job again first")
    return glue_context.create_dynamic_frame.from_options(
        connection_type="s3",
        connection_options={"paths": [f"{lake_root}/{relative_path}/"], "recurse": True},
        format="parquet",
    ).toDF()
