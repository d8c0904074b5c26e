"""The local Glue Data Catalog: one Glue `TableInput` JSON document per table (local runtime only).

The documents have exactly the shape that boto3's `glue.create_table(TableInput=...)` accepts, so
the
local catalog and the AWS one describe a table the same way. They live in
`<catalog root>/_catalog/<database>/<table>.json`; the local runner names the catalog root (the lake
root) in the environment variable below.
"""

import json
import os
import tempfile
from pathlib import Path

from awsglue._local_paths import to_local_path
from awsglue.local_errors import LocalCatalogRootError
from pyspark.sql.types import ArrayType, DataType, MapType, StructType, TimestampNTZType

CATALOG_ROOT_ENV = "STEDI_LOCAL_CATALOG_ROOT"

# What Glue's S3 sink records per storage format (Hive classes that Athena needs to read the files).
_STORAGE = {
    "parquet": {
        "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
    },
    "json": {
        "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
        "SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe",
    },
}


def catalog_root() -> Path:
    """Return the configured catalog root; raise LocalCatalogRootError if it is not configured.

    There is no sensible default: guessing a folder would scatter catalog files next to the data.
    """
    root = os.environ.get(CATALOG_ROOT_ENV, "").strip()
    if not root:
        raise LocalCatalogRootError(
            "the local Glue Data Catalog root is not configured: "
            f"set {CATALOG_ROOT_ENV} to the lake root "
            "(the local runner does this) before writing with enableUpdateCatalog=True"
        )
    return to_local_path(root)


def table_file(root: Path, database: str, table: str) -> Path:
    """Return where a table's TableInput is kept; names are lowercased as the Glue catalog stores
    them."""
    return root / "_catalog" / database.lower() / f"{table.lower()}.json"


def hive_type(data_type: DataType) -> str:
    """Return the Hive type name that Glue records for a Spark type (bigint, array<string>,
    struct<a:int>...)."""
    if isinstance(data_type, StructType):
        fields = ",".join(
            f"{field.name.lower()}:{hive_type(field.dataType)}" for field in data_type.fields
        )
        return f"struct<{fields}>"
    if isinstance(data_type, ArrayType):
        return f"array<{hive_type(data_type.elementType)}>"
    if isinstance(data_type, MapType):
        return f"map<{hive_type(data_type.keyType)},{hive_type(data_type.valueType)}>"
    if isinstance(data_type, TimestampNTZType):
        # Hive and Athena have a single timestamp type.
        return "timestamp"
    return data_type.simpleString()


def table_input(
    table: str,
    schema: StructType,
    partition_keys: list[str],
    location: Path,
    storage_format: str,
    compression: str | None,
) -> dict:
    """Build the TableInput of a table written in storage_format ("parquet" or "json").

    Partition columns are not stored in the files, so they are listed as PartitionKeys, not Columns.
    Column order is the DataFrame's.
    """
    types = {field.name: hive_type(field.dataType) for field in schema.fields}
    partition_set = set(partition_keys)
    columns = [name for name in types if name not in partition_set]
    storage = _STORAGE[storage_format]
    if storage_format == "json":
        serde_parameters = {"paths": ",".join(name.lower() for name in columns)}
    else:
        serde_parameters = {"serialization.format": "1"}
    return {
        "Name": table.lower(),
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": storage_format, "compressionType": compression or "none"},
        "PartitionKeys": [{"Name": name.lower(), "Type": types[name]} for name in partition_keys],
        "StorageDescriptor": {
            "Columns": [{"Name": name.lower(), "Type": types[name]} for name in columns],
            "Location": f"{location}/",
            "InputFormat": storage["InputFormat"],
            "OutputFormat": storage["OutputFormat"],
            "SerdeInfo": {
                "SerializationLibrary": storage["SerializationLibrary"],
                "Parameters": serde_parameters,
            },
            "Compressed": compression is not None,
        },
    }


def save_table_input(path: Path, document: dict) -> None:
    """Write the document atomically, so a reader never sees half a table definition."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as tmp:
            json.dump(document, tmp, indent=2)
            tmp.write("\n")
        os.replace(tmp_name, path)
    except BaseException:
        os.unlink(tmp_name)
        raise
