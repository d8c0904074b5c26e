"""Local `awsglue.data_sink`: Glue's S3 sink, writing to a local folder and to the local Data
Catalog.

Like Glue's S3 sink, a write appends files to the target folder (the jobs purge it first) and, with
enableUpdateCatalog, records the table in the catalog (see `_local_catalog`).
"""

import logging
import typing
from dataclasses import dataclass
from pathlib import Path

from awsglue import _local_catalog, _local_options, _local_paths
from awsglue.dynamicframe import DynamicFrame
from awsglue.local_errors import LocalUnsupportedError
from pyspark.sql import DataFrame
from pyspark.sql.types import StructType

from scripts.local_glue import parquet_footers

if typing.TYPE_CHECKING:
    from awsglue.context import GlueContext

_LOG = logging.getLogger(__name__)

_SINK_OPTIONS = ("path", "partitionKeys", "enableUpdateCatalog", "updateBehavior")
_UPDATE_BEHAVIORS = ("UPDATE_IN_DATABASE", "LOG")
_UNCOMPRESSED = ("none", "uncompressed")


@dataclass(frozen=True)
class _StorageFormat:
    """How a Glue format is written: Spark's data source (also the catalog classification), the
    format options implemented locally, and the compression used when none is given."""

    spark_format: str
    options: tuple[str, ...]
    default_compression: str | None


# glueparquet is Glue's own Parquet writer: its output is ordinary Parquet, like Spark's.
_FORMATS = {
    "glueparquet": _StorageFormat("parquet", ("compression",), "snappy"),
    "parquet": _StorageFormat("parquet", ("compression",), "snappy"),
    "json": _StorageFormat("json", (), None),
}


@dataclass(frozen=True)
class _S3Target:
    """The validated connection options of an S3 sink."""

    path: Path
    partition_keys: tuple[str, ...]
    update_catalog: bool
    update_behavior: str


def _s3_target(options: dict) -> _S3Target:
    """Validate the connection options that getSink received; Glue's defaults apply to absent
    ones."""
    _local_options.refuse_unknown(options, _SINK_OPTIONS, "S3 sink option")
    if "path" not in options:
        raise ValueError("the S3 sink needs a path option: getSink('s3', path=...)")
    behavior = options.get("updateBehavior", "UPDATE_IN_DATABASE")
    if behavior not in _UPDATE_BEHAVIORS:
        raise ValueError(
            f"updateBehavior must be one of {', '.join(_UPDATE_BEHAVIORS)}, got {behavior!r}"
        )
    return _S3Target(
        path=_local_paths.to_local_path(options["path"]),
        partition_keys=tuple(options.get("partitionKeys", [])),
        update_catalog=_local_options.as_bool(
            options.get("enableUpdateCatalog", False), "enableUpdateCatalog"
        ),
        update_behavior=behavior,
    )


def _compression(storage: _StorageFormat, options: dict) -> str | None:
    """Return the codec to write with, or None for uncompressed files."""
    codec = options.get("compression", storage.default_compression)
    if codec is None or str(codec).lower() in _UNCOMPRESSED:
        return None
    return str(codec).lower()


def _append_files(
    frame: DataFrame, target: _S3Target, storage: _StorageFormat, compression: str | None
) -> None:
    """Add the frame's files to the target folder, in key=value sub-folders when partitioned."""
    writer = (
        frame.write.mode("append")
        .format(storage.spark_format)
        .option("compression", compression or "none")
    )
    if target.partition_keys:
        writer = writer.partitionBy(*target.partition_keys)
    before = set(_files_under(target.path))
    writer.save(str(target.path))
    if storage.spark_format == "parquet":
        _drop_empty_output(sorted(set(_files_under(target.path)) - before))


def _files_under(folder: Path) -> list[Path]:
    """Every file under the folder, metadata files included."""
    return [path for path in folder.rglob("*") if path.is_file()] if folder.is_dir() else []


def _drop_empty_output(written: list[Path]) -> None:
    """Remove what a write of no rows left: Spark writes an empty Parquet file with the schema,
    where Glue's sink may write no file at all, so jobs tested locally must not rely on one. The
    footers tell the row count (read in the driver: a Spark count would be a job on every
    write); the folder stays."""
    data = [str(path) for path in written if not _local_paths.is_hidden(path.name)]
    if data and not parquet_footers.row_count(data):
        for path in written:
            path.unlink()


class DataSink:
    """A write target: set the format (and the catalog table), then `writeFrame`."""

    def __init__(self, j_sink: dict, sql_ctx: "GlueContext") -> None:
        # Glue passes its JVM sink here; locally the connection options given to getSink take its
        # place.
        self._target = _s3_target(j_sink)
        self._sql_ctx = sql_ctx
        self._storage: _StorageFormat | None = None
        self._codec: str | None = None
        self._catalog_table: tuple[str, str] | None = None

    def setFormat(self, format: str, **options) -> None:
        """Choose the file format: "glueparquet" or "parquet" (option compression, default
        snappy) or "json"."""
        storage = _FORMATS.get(format.lower())
        if storage is None:
            raise LocalUnsupportedError(
                f"sink format {format!r}: "
                f"the local Glue runtime writes {', '.join(sorted(_FORMATS))} only"
            )
        _local_options.refuse_unknown(options, storage.options, f"{format} format option")
        self._storage = storage
        self._codec = _compression(storage, options)

    def setCatalogInfo(
        self, catalogDatabase: str, catalogTableName: str, catalogId: str = ""
    ) -> None:
        """Name the catalog table that the write records (with enableUpdateCatalog=True).

        `catalogId` picks another AWS account's catalog; locally there is a single catalog, so it
        has no effect.
        """
        self._catalog_table = (catalogDatabase, catalogTableName)

    def writeFrame(self, dynamic_frame: DynamicFrame, info: str = "") -> DynamicFrame:
        """Append the frame's files to the sink path and record the table if asked to.

        Returns Glue's error frame, which is always empty locally: a local write either succeeds for
        every record or raises. `info` only labels such error records, so it is not used.
        """
        storage = self._require_format()
        # Resolved before any file is written, so that a missing catalog root leaves no orphan data.
        table_file = self._catalog_table_file()
        frame = dynamic_frame.toDF()
        _append_files(frame, self._target, storage, self._codec)
        _LOG.info(
            "wrote %s (%s, compression %s)",
            self._target.path,
            storage.spark_format,
            self._codec or "none",
        )
        if table_file is not None:
            self._record_table(table_file, frame.schema, storage)
        no_errors = self._sql_ctx.spark_session.createDataFrame([], StructType([]))
        return DynamicFrame.fromDF(no_errors, self._sql_ctx, dynamic_frame.name + "_errors")

    def write(self, dynamic_frame_or_dfc: DynamicFrame, info: str = "") -> DynamicFrame:
        """Write a DynamicFrame (DynamicFrameCollection is not part of the local runtime)."""
        if not isinstance(dynamic_frame_or_dfc, DynamicFrame):
            raise TypeError(
                "dynamic_frame_or_dfc must be a DynamicFrame, got "
                + type(dynamic_frame_or_dfc).__name__
            )
        return self.writeFrame(dynamic_frame_or_dfc, info)

    def _require_format(self) -> _StorageFormat:
        if self._storage is None:
            raise LocalUnsupportedError(
                "the sink has no format: call setFormat(...) or pass format= to getSink "
                "(the local runtime does not assume one)"
            )
        return self._storage

    def _catalog_table_file(self) -> Path | None:
        """Where the write records its table, or None when it records none."""
        if not self._target.update_catalog:
            return None
        if self._catalog_table is None:
            _LOG.warning(
                "enableUpdateCatalog is set but setCatalogInfo was not called: no table recorded"
            )
            return None
        database, table = self._catalog_table
        return _local_catalog.table_file(_local_catalog.catalog_root(), database, table)

    def _record_table(self, table_file: Path, schema: StructType, storage: _StorageFormat) -> None:
        """Create or update the table; with updateBehavior LOG an existing table's schema is left
        as it is."""
        if self._target.update_behavior == "LOG" and table_file.exists():
            _LOG.info("catalog table %s kept unchanged (updateBehavior=LOG)", table_file)
            return
        document = _local_catalog.table_input(
            table=self._catalog_table[1],
            schema=schema,
            partition_keys=list(self._target.partition_keys),
            location=self._target.path,
            storage_format=storage.spark_format,
            compression=self._codec,
        )
        _local_catalog.save_table_input(table_file, document)
        _LOG.info("catalog table %s recorded in %s", document["Name"], table_file)
