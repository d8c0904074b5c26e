"""The local awsglue runtime on real Spark: job arguments, purge, sink and catalog, readers,
frames, Job."""

import json
import logging
import os
import time
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from awsglue._local_versions import current_runtime
from awsglue.context import GlueContext
from awsglue.dynamicframe import DynamicFrame
from awsglue.job import Job
from awsglue.local_errors import LocalCatalogRootError, LocalS3PathError, LocalUnsupportedError
from awsglue.utils import GlueArgumentError, getResolvedOptions
from chispa import assert_df_equality
from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DateType,
    DoubleType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

CUSTOMER_SCHEMA = StructType(
    [
        StructField("email", StringType()),
        StructField("serialNumber", StringType()),
        StructField("registrationDate", LongType()),
        StructField("distanceFromObject", IntegerType()),
        StructField("x", DoubleType()),
        StructField("consented", BooleanType()),
        StructField("birthDay", DateType()),
        StructField("loadedAt", TimestampType()),
        StructField("tags", ArrayType(StringType())),
        StructField(
            "device",
            StructType(
                [StructField("model", StringType()), StructField("firmwareVersion", IntegerType())]
            ),
        ),
    ]
)
CUSTOMER_ROWS = [
    (
        "a@x",
        "s1",
        1655564376361,
        12,
        0.5,
        True,
        date(1990, 1, 2),
        datetime(2022, 6, 18, 15, 0, 1),
        ["phone", "tablet"],
        ("m1", 3),
    ),
    ("b@x", None, None, None, None, None, None, None, None, None),
]
GLUE_ARGUMENT_DEFAULTS = {
    "job_bookmark_option": "job-bookmark-disable",
    "job_bookmark_from": None,
    "job_bookmark_to": None,
    "JOB_ID": None,
    "JOB_RUN_ID": None,
    "SECURITY_CONFIGURATION": None,
    "encryption_type": None,
    "enable_data_lineage": None,
    "RedshiftTempDir": None,
    "TempDir": None,
}
HOUR = 3600


@pytest.fixture(scope="module")
def glue_context(spark):
    return GlueContext(spark.sparkContext)


@pytest.fixture
def lake(tmp_path, monkeypatch):
    """A lake root that is also the local catalog root, as the local runner sets it up."""
    root = tmp_path / "lake"
    root.mkdir()
    monkeypatch.setenv("STEDI_LOCAL_CATALOG_ROOT", str(root))
    return root


def customers(spark):
    return spark.createDataFrame(CUSTOMER_ROWS, CUSTOMER_SCHEMA)


def parquet_sink(glue_context, path, table="Customer_Trusted", **options):
    """A sink set up the way the Glue jobs set theirs up."""
    sink = glue_context.getSink(
        connection_type="s3",
        path=str(path),
        enableUpdateCatalog=True,
        **{"updateBehavior": "UPDATE_IN_DATABASE", "partitionKeys": [], **options},
    )
    sink.setCatalogInfo(catalogDatabase="STEDI", catalogTableName=table)
    sink.setFormat("glueparquet", compression="snappy")
    return sink


def write(glue_context, sink, frame):
    sink.writeFrame(DynamicFrame.fromDF(frame, glue_context, "frame"))


def catalog_table(lake, table="customer_trusted"):
    return json.loads((lake / "_catalog" / "stedi" / f"{table}.json").read_text())


def touch(path: Path, age_hours: float = 0.0) -> Path:
    """Create a file last modified age_hours ago."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x")
    modified = time.time() - age_hours * HOUR
    os.utime(path, (modified, modified))
    return path


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


# --- getResolvedOptions
# ----------------------------------------------------------------------------


def test_resolved_options_hold_the_listed_arguments_and_glue_defaults():
    argv = [
        "job.py",
        "--JOB_NAME",
        "customer_trusted",
        "--lake_root",
        "/lake",
        "--database",
        "stedi",
    ]
    assert getResolvedOptions(argv, ["JOB_NAME", "lake_root", "database"]) == {
        **GLUE_ARGUMENT_DEFAULTS,
        "JOB_NAME": "customer_trusted",
        "lake_root": "/lake",
        "database": "stedi",
    }


def test_resolved_options_ignore_unlisted_arguments():
    argv = ["job.py", "--JOB_NAME", "j", "--consent_mode", "since_consent", "--verbose"]
    assert getResolvedOptions(argv, ["JOB_NAME"]) == {**GLUE_ARGUMENT_DEFAULTS, "JOB_NAME": "j"}


def test_resolved_options_keep_equals_signs_in_values():
    argv = ["job.py", "--lake_root=/data/a=b", "--filter", "x=1"]
    resolved = getResolvedOptions(argv, ["lake_root", "filter"])
    assert (resolved["lake_root"], resolved["filter"]) == ("/data/a=b", "x=1")


def test_missing_listed_argument_raises_glue_argument_error():
    with pytest.raises(
        GlueArgumentError, match="^the following arguments are required: --database$"
    ):
        getResolvedOptions(["job.py", "--lake_root", "/lake"], ["lake_root", "database"])


def test_job_name_is_required_when_listed():
    with pytest.raises(GlueArgumentError, match="--JOB_NAME"):
        getResolvedOptions(["job.py", "--lake_root", "/lake"], ["JOB_NAME", "lake_root"])


def test_glue_reserved_arguments_cannot_be_listed():
    with pytest.raises(RuntimeError, match="^Using reserved arguments --JOB_RUN_ID$"):
        getResolvedOptions(["job.py"], ["JOB_RUN_ID"])


GLUE_RUNTIME = current_runtime()
ABBREVIATED = ["job.py", "--lake", "/lake"]


@pytest.mark.every_glue_version
@pytest.mark.skipif(not GLUE_RUNTIME.abbreviations_by_default,
                    reason=f"Glue {GLUE_RUNTIME.version} refuses abbreviations")
def test_glue_5_resolves_an_abbreviated_option_name():
    assert getResolvedOptions(ABBREVIATED, ["lake_root"])["lake_root"] == "/lake"


@pytest.mark.every_glue_version
@pytest.mark.skipif(GLUE_RUNTIME.abbreviations_by_default,
                    reason=f"Glue {GLUE_RUNTIME.version} resolves abbreviations")
def test_glue_6_resolves_an_abbreviated_option_name_only_when_allowed():
    with pytest.raises(GlueArgumentError, match="required: --lake_root"):
        getResolvedOptions(ABBREVIATED, ["lake_root"])
    assert getResolvedOptions(ABBREVIATED, ["lake_root"], allow_abbrev=True)["lake_root"] == "/lake"


def test_legacy_continuation_option_becomes_the_bookmark_option():
    resolved = getResolvedOptions(["job.py", "--continuation-option", "continuation-enabled"], [])
    assert resolved["job_bookmark_option"] == "job-bookmark-enable"
    assert "continuation_option" not in resolved


# --- purge_s3_path
# ---------------------------------------------------------------------------------


def test_purge_deletes_every_file_under_the_path_and_keeps_the_folder(glue_context, tmp_path):
    target = tmp_path / "customer" / "trusted"
    for name in (
        "part-0.snappy.parquet",
        "_SUCCESS",
        ".part-0.crc",
        "zone=a/part-1.snappy.parquet",
    ):
        touch(target / name)
    sibling = touch(tmp_path / "customer" / "trusted_backup" / "part-0.snappy.parquet")
    glue_context.purge_s3_path(str(target), {"retentionPeriod": 0})
    assert (list(target.iterdir()), files_under(sibling.parent)) == ([], ["part-0.snappy.parquet"])


def test_purge_keeps_files_newer_than_the_retention_period(glue_context, tmp_path):
    touch(tmp_path / "out" / "ten_hours_old", age_hours=10)
    touch(tmp_path / "out" / "one_hour_old", age_hours=1)
    glue_context.purge_s3_path(str(tmp_path / "out"), options={"retentionPeriod": 5})
    assert files_under(tmp_path / "out") == ["one_hour_old"]


def test_purge_retains_one_week_by_default(glue_context, tmp_path):
    touch(tmp_path / "out" / "older_than_a_week", age_hours=169)
    touch(tmp_path / "out" / "younger_than_a_week", age_hours=167)
    glue_context.purge_s3_path(str(tmp_path / "out"))
    assert files_under(tmp_path / "out") == ["younger_than_a_week"]


def test_purge_of_a_missing_folder_does_nothing(glue_context, tmp_path):
    glue_context.purge_s3_path(f"file://{tmp_path}/missing", {"retentionPeriod": 0})
    assert list(tmp_path.iterdir()) == []


def test_purge_refuses_options_it_does_not_implement(glue_context, tmp_path):
    with pytest.raises(LocalUnsupportedError, match="manifestFilePath"):
        glue_context.purge_s3_path(
            str(tmp_path), {"retentionPeriod": 0, "manifestFilePath": str(tmp_path)}
        )


# --- S3 paths are refused everywhere
# -----------------------------------------------------------------

S3_CALLS = {
    "purge": lambda gc, url: gc.purge_s3_path(url, {"retentionPeriod": 0}),
    "read": lambda gc, url: gc.create_dynamic_frame.from_options("s3", {"paths": [url]}, "json"),
    "sink": lambda gc, url: gc.getSink("s3", path=url),
}


@pytest.mark.parametrize("scheme", ["s3", "s3a", "s3n"])
@pytest.mark.parametrize("call", sorted(S3_CALLS))
def test_s3_paths_are_refused(glue_context, call, scheme):
    url = f"{scheme}://bucket/customer/landing/"
    with pytest.raises(
        LocalS3PathError, match="local paths only; on AWS the same script runs on Glue"
    ) as error:
        S3_CALLS[call](glue_context, url)
    assert error.value.path == url


# --- getSink / writeFrame
# --------------------------------------------------------------------------


def test_sink_writes_snappy_parquet_files(spark, glue_context, lake):
    target = lake / "customer" / "trusted"
    write(glue_context, parquet_sink(glue_context, target), customers(spark))
    data_files = [name for name in os.listdir(target) if not name.startswith(("_", "."))]
    assert data_files and all(name.endswith(".snappy.parquet") for name in data_files)
    codecs = duckdb.sql(
        f"select distinct compression from parquet_metadata('{target}/*.parquet')"
    ).fetchall()
    assert codecs == [("SNAPPY",)]


def test_sink_round_trip_returns_the_rows_exactly(spark, glue_context, lake):
    target = lake / "customer" / "trusted"
    write(glue_context, parquet_sink(glue_context, target), customers(spark))
    assert_df_equality(spark.read.parquet(str(target)), customers(spark), ignore_row_order=True)


def test_sink_appends_to_what_the_path_holds(spark, glue_context, lake):
    target = lake / "customer" / "trusted"
    write(glue_context, parquet_sink(glue_context, target), customers(spark))
    write(glue_context, parquet_sink(glue_context, target), customers(spark))
    assert_df_equality(
        spark.read.parquet(str(target)),
        customers(spark).unionAll(customers(spark)),
        ignore_row_order=True,
    )


def test_sink_records_a_glue_table_input_in_the_catalog(spark, glue_context, lake):
    target = lake / "customer" / "trusted"
    write(glue_context, parquet_sink(glue_context, target), customers(spark))
    assert catalog_table(lake) == {
        "Name": "customer_trusted",
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": "parquet", "compressionType": "snappy"},
        "PartitionKeys": [],
        "StorageDescriptor": {
            "Columns": [
                {"Name": "email", "Type": "string"},
                {"Name": "serialnumber", "Type": "string"},
                {"Name": "registrationdate", "Type": "bigint"},
                {"Name": "distancefromobject", "Type": "int"},
                {"Name": "x", "Type": "double"},
                {"Name": "consented", "Type": "boolean"},
                {"Name": "birthday", "Type": "date"},
                {"Name": "loadedat", "Type": "timestamp"},
                {"Name": "tags", "Type": "array<string>"},
                {"Name": "device", "Type": "struct<model:string,firmwareversion:int>"},
            ],
            "Location": f"{target}/",
            "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
            "SerdeInfo": {
                "SerializationLibrary":
                    "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
                "Parameters": {"serialization.format": "1"},
            },
            "Compressed": True,
        },
    }


def test_partition_keys_become_folders_and_catalog_partition_keys(spark, glue_context, lake):
    target = lake / "step_trainer" / "trusted"
    frame = spark.createDataFrame(
        [(1, "s1"), (2, "s1"), (3, "s2")], "sensorReadingTime bigint, serialNumber string"
    )
    write(
        glue_context,
        parquet_sink(glue_context, target, "step_trainer_trusted", partitionKeys=["serialNumber"]),
        frame,
    )
    table = catalog_table(lake, "step_trainer_trusted")
    assert sorted(p.name for p in target.iterdir() if p.is_dir()) == [
        "serialNumber=s1",
        "serialNumber=s2",
    ]
    assert table["PartitionKeys"] == [{"Name": "serialnumber", "Type": "string"}]
    assert table["StorageDescriptor"]["Columns"] == [
        {"Name": "sensorreadingtime", "Type": "bigint"}
    ]


def test_update_in_database_replaces_the_table_schema(spark, glue_context, lake):
    target = lake / "customer" / "curated"
    write(
        glue_context, parquet_sink(glue_context, target), spark.createDataFrame([(1,)], "a bigint")
    )
    write(
        glue_context,
        parquet_sink(glue_context, target),
        spark.createDataFrame([(1, "b")], "a bigint, b string"),
    )
    assert catalog_table(lake)["StorageDescriptor"]["Columns"] == [
        {"Name": "a", "Type": "bigint"},
        {"Name": "b", "Type": "string"},
    ]


def test_update_behavior_log_keeps_an_existing_table_schema(spark, glue_context, lake):
    target = lake / "customer" / "curated"
    write(
        glue_context, parquet_sink(glue_context, target), spark.createDataFrame([(1,)], "a bigint")
    )
    write(
        glue_context,
        parquet_sink(glue_context, target, updateBehavior="LOG"),
        spark.createDataFrame([(1, "b")], "a bigint, b string"),
    )
    assert catalog_table(lake)["StorageDescriptor"]["Columns"] == [{"Name": "a", "Type": "bigint"}]


def test_unconfigured_catalog_root_fails_before_writing_data(
    spark, glue_context, tmp_path, monkeypatch
):
    monkeypatch.delenv("STEDI_LOCAL_CATALOG_ROOT", raising=False)
    target = tmp_path / "customer" / "trusted"
    with pytest.raises(LocalCatalogRootError, match="STEDI_LOCAL_CATALOG_ROOT"):
        write(glue_context, parquet_sink(glue_context, target), customers(spark))
    assert not target.exists()


def test_json_sink_writes_json_lines_and_a_json_serde_table(spark, glue_context, lake):
    target = lake / "accelerometer" / "trusted"
    sink = glue_context.getSink("s3", format="json", path=str(target), enableUpdateCatalog=True)
    sink.setCatalogInfo("stedi", "accelerometer_trusted")
    write(
        glue_context,
        sink,
        spark.createDataFrame([("a@x", 1, 0.5)], "user string, timestamp bigint, x double"),
    )
    lines = [
        line
        for file in sorted(target.glob("part-*.json"))
        for line in file.read_text().splitlines()
    ]
    table = catalog_table(lake, "accelerometer_trusted")
    assert [json.loads(line) for line in lines] == [{"user": "a@x", "timestamp": 1, "x": 0.5}]
    storage = table["StorageDescriptor"]
    assert (table["Parameters"], storage["SerdeInfo"], storage["Compressed"]) == (
        {"classification": "json", "compressionType": "none"},
        {
            "SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe",
            "Parameters": {"paths": "user,timestamp,x"},
        },
        False,
    )


def test_sink_write_writes_a_dynamic_frame_like_write_frame(spark, glue_context, lake):
    target = lake / "customer" / "trusted"
    parquet_sink(glue_context, target).write(
        DynamicFrame.fromDF(customers(spark), glue_context, "customers")
    )
    assert_df_equality(spark.read.parquet(str(target)), customers(spark), ignore_row_order=True)


def test_sink_write_refuses_anything_but_a_dynamic_frame(spark, glue_context, lake):
    with pytest.raises(TypeError, match="must be a DynamicFrame, got DataFrame"):
        parquet_sink(glue_context, lake / "customer" / "trusted").write(customers(spark))


def test_sink_refuses_a_format_it_does_not_write(glue_context, tmp_path):
    sink = glue_context.getSink("s3", path=str(tmp_path))
    with pytest.raises(LocalUnsupportedError, match="'csv'"):
        sink.setFormat("csv")


def test_sink_refuses_options_it_does_not_implement(glue_context, tmp_path):
    with pytest.raises(LocalUnsupportedError, match="groupFiles"):
        glue_context.getSink("s3", path=str(tmp_path), groupFiles="inPartition")


# --- create_dynamic_frame.from_options
# ---------------------------------------------------------------


def landing(tmp_path: Path) -> Path:
    """A landing folder with one JSON lines file on top and one in a sub-folder."""
    folder = tmp_path / "accelerometer" / "landing"
    (folder / "2022").mkdir(parents=True)
    (folder / "top.json").write_text(
        '{"user": "a@x", "timestamp": 1}\n{"user": "b@x", "timestamp": 2}\n'
    )
    (folder / "2022" / "nested.json").write_text('{"user": "c@x", "timestamp": 3}\n')
    (folder / "_SUCCESS").write_text("")
    return folder


def read_json(glue_context, folder, **connection_options):
    return glue_context.create_dynamic_frame.from_options(
        connection_type="s3",
        connection_options={"paths": [str(folder)], **connection_options},
        format="json",
    )


def test_json_read_takes_only_the_top_level_files_unless_recurse_is_set(
    spark, glue_context, tmp_path
):
    frame = read_json(glue_context, landing(tmp_path)).toDF()
    assert_df_equality(
        frame,
        spark.createDataFrame([(1, "a@x"), (2, "b@x")], "timestamp bigint, user string"),
        ignore_row_order=True,
    )


def test_json_read_with_recurse_takes_nested_files_too(spark, glue_context, tmp_path):
    frame = read_json(glue_context, landing(tmp_path), recurse=True).toDF()
    assert_df_equality(
        frame,
        spark.createDataFrame(
            [(1, "a@x"), (2, "b@x"), (3, "c@x")], "timestamp bigint, user string"
        ),
        ignore_row_order=True,
    )


def test_json_read_of_multiline_documents(spark, glue_context, tmp_path):
    (tmp_path / "doc.json").write_text('{\n  "user": "a@x",\n  "timestamp": 1\n}\n')
    frame = glue_context.create_dynamic_frame_from_options(
        "s3", {"paths": [str(tmp_path)]}, format="json", format_options={"multiline": True}
    ).toDF()
    assert_df_equality(frame, spark.createDataFrame([(1, "a@x")], "timestamp bigint, user string"))


def test_json_read_refuses_a_json_path_that_selects_part_of_each_record(glue_context, tmp_path):
    with pytest.raises(LocalUnsupportedError, match="jsonPath"):
        glue_context.create_dynamic_frame_from_options(
            "s3", {"paths": [str(tmp_path)]}, format="json", format_options={"jsonPath": "$.user"}
        )


def test_parquet_read_with_recurse(spark, tmp_path, glue_context):
    spark.createDataFrame([(1, "s1")], "t bigint, serial string").write.parquet(
        str(tmp_path / "table" / "part_a")
    )
    frame = glue_context.create_dynamic_frame.from_options(
        "s3", {"paths": [f"file://{tmp_path}/table"], "recurse": True}, format="parquet"
    )
    assert_df_equality(frame.toDF(), spark.createDataFrame([(1, "s1")], "t bigint, serial string"))


def test_read_of_an_empty_folder_gives_an_empty_frame(glue_context, tmp_path):
    frame = glue_context.create_dynamic_frame.from_options(
        "s3", {"paths": [str(tmp_path)]}, format="json"
    )
    assert (frame.count(), frame.toDF().columns) == (0, [])


# --- DynamicFrame, GlueContext, Job
# -----------------------------------------------------------------


def test_dynamic_frame_from_df_to_df_is_the_same_dataframe(spark, glue_context):
    frame = customers(spark)
    dynamic_frame = DynamicFrame.fromDF(frame, glue_context, "customers")
    assert (dynamic_frame.toDF() is frame, dynamic_frame.name, dynamic_frame.count()) == (
        True,
        "customers",
        2,
    )


def test_to_df_refuses_resolve_options(spark, glue_context):
    with pytest.raises(LocalUnsupportedError, match="resolve options"):
        DynamicFrame.fromDF(customers(spark), glue_context).toDF([object()])


def test_glue_context_uses_the_running_session(spark):
    assert (GlueContext(spark.sparkContext).spark_session, GlueContext(spark).spark_session) == (
        spark,
        spark,
    )


def test_glue_context_logger_writes_to_python_logging(glue_context, caplog):
    with caplog.at_level(logging.INFO, logger="awsglue.local"):
        logger = glue_context.get_logger()
        logger.info("started")
        logger.warn("slow")
        logger.error("failed")
    assert [(r.name, r.levelname, r.message) for r in caplog.records] == [
        ("awsglue.local", "INFO", "started"),
        ("awsglue.local", "WARNING", "slow"),
        ("awsglue.local", "ERROR", "failed"),
    ]


def test_job_lifecycle(glue_context, caplog):
    job = Job(glue_context)
    before = job.isInitialized()
    with caplog.at_level(logging.INFO, logger="awsglue.job"):
        job.init("customer_landing_to_trusted", {"JOB_NAME": "customer_landing_to_trusted"})
        job.commit()
    assert (before, job.isInitialized()) == (False, True)
    assert [r.message for r in caplog.records] == [
        "job customer_landing_to_trusted started (local runtime: no job bookmarks)",
        "job customer_landing_to_trusted committed",
    ]


def test_job_accepts_a_spark_session(spark):
    assert Job(spark).isInitialized() is False


def test_job_refuses_anything_but_a_glue_context_or_spark_session():
    with pytest.raises(TypeError, match="^Job needs a GlueContext or a SparkSession, got str$"):
        Job("not a context")
