"""Local `awsglue.context`: GlueContext on plain PySpark, reading and writing local folders.

Paths keep their Glue spelling (connection type "s3", options "paths", "path", ...) but must be
local
paths or file:// URLs; S3 URLs are refused with LocalS3PathError.
"""

import logging
import os
import re
import time
from pathlib import Path

from awsglue import _local_options, _local_paths
from awsglue.data_sink import DataSink
from awsglue.dynamicframe import DynamicFrame, DynamicFrameReader
from awsglue.local_errors import LocalUnsupportedError
from pyspark import SparkContext
from pyspark.sql import DataFrame, SparkSession, SQLContext
from pyspark.sql.types import StructType

_LOG = logging.getLogger(__name__)

# get_logger() writes here; a stable name lets the local runner configure it.
_GLUE_LOGGER_NAME = "awsglue.local"
_DEFAULT_RETENTION_HOURS = 168
# jsonPath values that select each whole record, which is what Spark's JSON reader returns anyway.
_WHOLE_RECORD_JSON_PATHS = ("$", "$[*]")
# optimizePerformance only switches Glue to a faster JSON parser; the rows it reads are the same.
_JSON_FORMAT_OPTIONS = ("multiline", "jsonPath", "optimizePerformance")


class _LocalGlueLogger:
    """Stands in for Glue's GlueLogger: its info / warn / error go to a Python logger."""

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger

    def info(self, message: str) -> None:
        self._logger.info(message)

    def warn(self, message: str) -> None:
        self._logger.warning(message)

    def error(self, message: str) -> None:
        self._logger.error(message)


def _require_s3(connection_type: str) -> None:
    """Only the S3 connection (mapped to local folders) exists locally."""
    if connection_type.lower() != "s3":
        raise LocalUnsupportedError(
            f"connection type {connection_type!r}: "
            "the local Glue runtime implements 's3' (local folders) only"
        )


def _frame_name(paths: list[str]) -> str:
    """Name a read frame like Glue does: the paths' common prefix, without scheme, ':', '/' and
    '.'."""
    prefix = os.path.commonprefix(paths).split(":")[-1]
    return re.sub("[:/.]", "", prefix)


def _json_reader_options(format_options: dict) -> dict[str, str]:
    """Translate Glue's JSON format options into Spark's JSON reader options."""
    _local_options.refuse_unknown(format_options, _JSON_FORMAT_OPTIONS, "json format option")
    json_path = format_options.get("jsonPath", "$")
    if json_path not in _WHOLE_RECORD_JSON_PATHS:
        raise LocalUnsupportedError(
            f"jsonPath {json_path!r}: the local Glue runtime reads whole records only "
            f"(jsonPath {' or '.join(_WHOLE_RECORD_JSON_PATHS)})"
        )
    multiline = _local_options.as_bool(format_options.get("multiline", False), "multiline")
    return {"multiLine": str(multiline).lower()}


def _reader_options(format: str, format_options: dict) -> dict[str, str]:
    """Return Spark's reader options for a supported Glue read format."""
    if format == "json":
        return _json_reader_options(format_options)
    if format == "parquet":
        _local_options.refuse_unknown(format_options, (), "parquet format option")
        return {}
    raise LocalUnsupportedError(
        f"read format {format!r}: the local Glue runtime reads json and parquet only"
    )


def _read(
    spark: SparkSession, files: list[Path], format: str, reader_options: dict[str, str]
) -> DataFrame:
    """Read the files as one DataFrame; Glue reads an empty folder as an empty frame, Spark would
    fail."""
    if not files:
        return spark.createDataFrame([], StructType([]))
    return spark.read.format(format).options(**reader_options).load([str(file) for file in files])


class GlueContext(SQLContext):
    """The entry point of a Glue script: readers, sinks, purge and logging around one
    SparkSession."""

    def __init__(self, sparkContext: SparkContext | SparkSession | None = None, **options) -> None:
        """Wrap the running SparkSession (the one given, or the one running on sparkContext).

        Glue's `options` (minPartitions, targetPartitions) tune its JVM context, which does not
        exist locally.
        """
        _local_options.refuse_unknown(options, (), "GlueContext option")
        if isinstance(sparkContext, SparkSession):
            spark_session = sparkContext
        else:
            # getOrCreate returns the session already running (on that SparkContext) unchanged.
            spark_session = SparkSession.builder.getOrCreate()
        super().__init__(spark_session.sparkContext, spark_session)
        self.spark_session = spark_session
        self.create_dynamic_frame = DynamicFrameReader(self)

    def create_dynamic_frame_from_options(
        self,
        connection_type: str,
        connection_options: dict = {},  # noqa: B006 - Glue's default, never mutated
        format: str | None = None,
        format_options: dict = {},  # noqa: B006 - Glue's default, never mutated
        transformation_ctx: str = "",
        push_down_predicate: str = "",
        **kwargs,
    ) -> DynamicFrame:
        """Read the json or parquet files under local folders into a DynamicFrame.

        connection_type "s3"; connection_options "paths" (list) and "recurse" (default False: only
        the files directly under each path, as on Glue). json reads one object per line, or one
        document per file with format_options {"multiline": True}. `transformation_ctx` only keys
        Glue's bookmark state, so it is not used; `push_down_predicate` and Glue's getFrame
        arguments (**kwargs) are refused.
        """
        _require_s3(connection_type)
        _local_options.refuse_unknown(
            connection_options, ("paths", "recurse"), "S3 connection option"
        )
        _local_options.refuse_unknown(kwargs, (), "create_dynamic_frame_from_options argument")
        if push_down_predicate:
            raise LocalUnsupportedError(
                "push_down_predicate: the local Glue runtime reads whole folders"
            )
        paths = connection_options.get("paths")
        if not paths or isinstance(paths, str):
            raise ValueError("connection_options['paths'] must be a non-empty list of paths")
        read_format = (format or "").lower()
        reader_options = _reader_options(read_format, format_options)
        recurse = _local_options.as_bool(connection_options.get("recurse", False), "recurse")
        folders = [_local_paths.to_local_path(path) for path in paths]
        files = [file for folder in folders for file in _local_paths.data_files(folder, recurse)]
        frame = _read(self.spark_session, files, read_format, reader_options)
        return DynamicFrame(frame, self, _frame_name(list(paths)))

    def getSink(
        self,
        connection_type: str,
        format: str | None = None,
        transformation_ctx: str = "",
        **options,
    ) -> DataSink:
        """Return a sink writing to a local folder: getSink("s3", path=..., partitionKeys=[...],
        enableUpdateCatalog=True, updateBehavior="UPDATE_IN_DATABASE" or "LOG").

        `transformation_ctx` only keys Glue's bookmark state, so it is not used.
        """
        _require_s3(connection_type)
        sink = DataSink(options, self)
        if format:
            sink.setFormat(format)
        return sink

    def purge_s3_path(
        self,
        s3_path: str,
        options: dict = {},  # noqa: B006 - Glue's default, never mutated
        transformation_ctx: str = "",
    ) -> None:
        """Delete the files under a local folder, recursively, except those newer than the
        retention period.

        options {"retentionPeriod": hours} (Glue's default: 168, one week; the jobs pass 0). The
        folder itself stays; a missing folder is fine. `transformation_ctx` only names Glue's
        manifest files, which are not written locally.
        """
        _local_options.refuse_unknown(options, ("retentionPeriod",), "purge_s3_path option")
        hours = float(options.get("retentionPeriod", _DEFAULT_RETENTION_HOURS))
        if hours < 0:
            raise ValueError(f"retentionPeriod must be zero or more hours, got {hours:g}")
        folder = _local_paths.to_local_path(s3_path)
        deleted = _local_paths.purge_files(folder, cutoff=time.time() - hours * 3600)
        _LOG.info("purged %d files from %s (retention %g h)", len(deleted), folder, hours)

    def get_logger(self) -> _LocalGlueLogger:
        """Return the job logger (info / warn / error), which writes to the Python logger
        "awsglue.local"."""
        return _LocalGlueLogger(logging.getLogger(_GLUE_LOGGER_NAME))
