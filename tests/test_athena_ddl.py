"""The Athena DDL of athena_ddl/ against the pipeline definition and what the jobs really read
and write: a change to a job's columns that is not mirrored in its DDL fails here."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from sqlglot import exp

from scripts._cli.errors import CliError
from scripts.lake import athena_ddl, pipeline
from tests.support import REPO_ROOT, load_job_module

LANDING_SCHEMAS = {
    "customer_landing": load_job_module("customer_landing_to_trusted").CUSTOMER_LANDING_SCHEMA,
    "accelerometer_landing":
        load_job_module("accelerometer_landing_to_trusted").ACCELEROMETER_LANDING_SCHEMA,
    "step_trainer_landing": load_job_module("step_trainer_trusted").STEP_TRAINER_LANDING_SCHEMA,
}


def hive_columns(schema) -> tuple[tuple[str, str], ...]:
    """A Spark schema as (name, Hive type): Spark's simple type names are Hive's, written as
    the DDL parser writes them (map<string, double>)."""
    return tuple((field.name, exp.DataType.build(field.dataType.simpleString(), dialect="hive")
                  .sql(dialect="hive").lower()) for field in schema.fields)


def test_there_is_the_database_file_and_one_ddl_file_per_table_of_the_catalog():
    assert sorted(p.stem for p in athena_ddl.DDL_DIR.glob("*.sql")) == sorted(
        ["database", *(t.name for t in pipeline.CATALOG_TABLES)])


def test_the_files_run_in_one_order_database_first_then_landing_quarantine_and_job_order():
    assert athena_ddl.ddl_files_in_order() == (
        "database",
        "customer_landing", "accelerometer_landing", "step_trainer_landing",
        "customer_quarantine", "accelerometer_quarantine", "step_trainer_quarantine",
        "customer_trusted", "accelerometer_trusted", "customer_curated", "step_trainer_trusted",
        "machine_learning_curated", "data_quality_results")
    rendered = athena_ddl.render_all("my-bucket").values()
    assert [athena_ddl.parse(text).name for text in rendered] == list(
        athena_ddl.ddl_files_in_order()[1:])
    # the tables the jobs write come after every table their job reads
    order = athena_ddl.ddl_files_in_order()
    for job in pipeline.JOBS:
        assert all(order.index(source) < order.index(job.output) for source in job.inputs)


def test_the_database_file_creates_the_database_it_is_rendered_for():
    import sqlglot

    create = sqlglot.parse_one(
        athena_ddl.statement(athena_ddl.render("database", "my-bucket", "lake_db")), read="athena")
    assert (create.kind, create.this.name, create.args["exists"]) == ("DATABASE", "lake_db", True)
    def created(name: str) -> str | None:
        return athena_ddl.created_database(athena_ddl.render(name, "my-bucket", "lake_db"))

    assert created("database") == "lake_db"
    assert created("customer_trusted") is None


def catalog(connection) -> dict[str, list[str]]:
    """The local catalog: every schema with its views (DuckDB's own schemas left out)."""
    schemas = {name: [] for (name,) in connection.sql(
        "select schema_name from duckdb_schemas() where not internal and schema_name <> 'main'"
    ).fetchall()}
    for schema, view in connection.sql("select schema_name, view_name from duckdb_views() "
                                       "where not internal order by view_name").fetchall():
        schemas.setdefault(schema, []).append(view)
    return schemas


def test_the_files_run_in_that_order_on_an_empty_catalog_make_the_database_and_every_table(
        tmp_path):
    """The Athena console user's journey, on the local catalog (DuckDB, as `make query` makes
    it): the rendered files, one after the other, in the order `make ddl` numbers them."""
    import duckdb

    from scripts.lake import query_engine

    out = tmp_path / "ddl"
    athena_ddl.write_rendered("my-bucket", "course", out)
    connection = duckdb.connect()
    assert catalog(connection) == {}
    for path in sorted(out.iterdir()):
        query_engine.run_ddl(connection, tmp_path / "lake", path.read_text(), bucket="my-bucket")
    assert catalog(connection) == {"course": sorted(t.name for t in pipeline.CATALOG_TABLES)}
    for table in pipeline.CATALOG_TABLES:
        names = [row[0] for row in connection.sql(f"describe course.{table.name}").fetchall()]
        columns = athena_ddl.table_definitions()[table.name].columns
        assert names == [name.lower() for name, _ in columns]


@pytest.mark.parametrize("table", pipeline.CATALOG_TABLES, ids=lambda t: t.name)
def test_a_table_file_run_before_the_database_file_fails(tmp_path, table):
    import duckdb

    from scripts.lake import query_engine

    connection = duckdb.connect()
    with pytest.raises(CliError, match="Schema with name course does not exist"):
        query_engine.run_ddl(connection, tmp_path,
                             athena_ddl.render(table.name, "my-bucket", "course"),
                             bucket="my-bucket")
    assert catalog(connection) == {}


def test_the_readme_states_the_order_make_ddl_numbers_the_files_in():
    athena = (REPO_ROOT / "docs" / "athena.md").read_text()
    stated = re.findall(r"\b\d\d_\w+\.sql\b", athena)
    assert stated == [athena_ddl.numbered_name(name) for name in athena_ddl.ddl_files_in_order()]


@pytest.mark.parametrize("table", pipeline.CATALOG_TABLES, ids=lambda t: t.name)
def test_ddl_parses_as_athena_sql_and_names_its_table(table):
    definition = athena_ddl.parse(athena_ddl.render(table.name, "my-bucket", "lake_db"))
    assert definition.name == table.name
    assert definition.location == f"s3://my-bucket/{table.path}/"
    parquet = (*pipeline.output_tables(), pipeline.DATA_QUALITY_TABLE)
    assert definition.storage == ("parquet" if table in parquet else "json")


@pytest.mark.parametrize("table", pipeline.CATALOG_TABLES, ids=lambda t: t.name)
def test_ddl_header_states_the_grain_of_the_pipeline_definition(table):
    header = athena_ddl.ddl_file(table.name).read_text()
    assert f"-- Grain: {table.grain}.\n" in header
    assert re.search(r"^-- Key: .+$", header, re.MULTILINE)


@pytest.mark.parametrize("name", sorted(LANDING_SCHEMAS))
def test_landing_ddl_columns_equal_the_schema_the_jobs_read(name):
    assert athena_ddl.table_definitions()[name].columns == hive_columns(LANDING_SCHEMAS[name])


@pytest.mark.parametrize("table", pipeline.landing_tables() + pipeline.QUARANTINE_TABLES,
                         ids=lambda t: t.name)
def test_json_tables_read_wrong_typed_values_as_null_rather_than_failing_the_query(table):
    """Without use.null.for.invalid.data, one well-formed record with a wrong-typed value
    makes Athena's queries on that column fail with HIVE_BAD_DATA."""
    properties = re.findall(r"'([a-z.]+)' = '(\w+)'", athena_ddl.ddl_file(table.name).read_text())
    assert ("use.null.for.invalid.data", "true") in properties
    assert ("ignore.malformed.json", "true") in properties


def test_quarantine_tables_read_what_the_landing_jobs_quarantine(spark, tmp_path):
    """Every rejected record is a row of its quarantine table, with the columns of the DDL,
    locally as in Athena."""
    from scripts.lake import query_engine
    from scripts.local_glue.runner import run_pipeline
    from scripts.sample_data.generator import generate

    lake = tmp_path / "lake"
    generate(lake, scale=0.02, seed=3, files_per_source=1, dirty=True)
    report = run_pipeline(lake, pipeline.JOBS, pipeline.job_options(), spark)
    connection = query_engine.connect(lake)
    definitions = athena_ddl.table_definitions()
    for table in pipeline.QUARANTINE_TABLES:
        written = spark.read.json(table.location(lake)).schema
        columns = dict(definitions[table.name].columns)
        assert sorted(columns) == sorted(written.fieldNames()), table.name
        names, rows = query_engine.run_query(connection, f"select * from {table.name}")
        assert names == list(columns)
        assert len(rows) == report["rejected"][table.source] > 0, table.name
        assert all(isinstance(row[names.index("line_number")], int) and row[names.index("reason")]
                   for row in rows)


@pytest.mark.parametrize("table", (*pipeline.output_tables(), pipeline.DATA_QUALITY_TABLE),
                         ids=lambda t: t.name)
def test_zone_ddl_columns_equal_the_parquet_the_jobs_write(spark, pipeline_lake, table):
    written = spark.read.parquet(table.location(pipeline_lake)).schema
    assert athena_ddl.table_definitions()[table.name].columns == hive_columns(written)


@pytest.mark.parametrize("table", pipeline.output_tables(), ids=lambda t: t.name)
def test_zone_ddl_columns_equal_the_catalog_entry_the_job_registered(pipeline_lake, table):
    entry = json.loads((pipeline_lake / "_catalog" / "stedi" / f"{table.name}.json").read_text())
    catalog_columns = [(c["Name"], c["Type"]) for c in entry["StorageDescriptor"]["Columns"]]
    assert catalog_columns == [(name.lower(), kind)
                               for name, kind in athena_ddl.table_definitions()[table.name].columns]


def test_render_fills_in_bucket_and_database():
    rendered = athena_ddl.render("customer_trusted", "stedi-lake-1", "analytics")
    assert "`analytics`.`customer_trusted`" in rendered
    assert "LOCATION 's3://stedi-lake-1/customer/trusted/'" in rendered
    assert "${" not in rendered


@pytest.mark.parametrize("bucket, database", [("Upper", "stedi"), ("a", "stedi"),
                                              ("ok-bucket", "Bad-Name"), ("b..c", "stedi")])
def test_render_refuses_invalid_names(bucket, database):
    with pytest.raises(CliError, match="invalid"):
        athena_ddl.render("customer_trusted", bucket, database)


def test_statement_drops_comments_and_the_semicolon():
    text = athena_ddl.statement(athena_ddl.render("step_trainer_landing", "my-bucket"))
    assert text.startswith("CREATE EXTERNAL TABLE") and not text.endswith(";")
    assert "--" not in text


def run_ddl_cli(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scripts.ddl", *arguments], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120)


def test_render_cli_writes_ready_to_paste_ddl_numbered_in_run_order(tmp_path):
    (tmp_path / "customer_landing.sql").write_text("an older rendering, not numbered")
    (tmp_path / "03_customer_trusted.sql").write_text("an older rendering, numbered otherwise")
    (tmp_path / "notes.sql").write_text("not ours")
    result = run_ddl_cli("render", "--bucket", "my-stedi", "--database", "course",
                         "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    expected = ["00_database.sql", "01_customer_landing.sql", "02_accelerometer_landing.sql",
                "03_step_trainer_landing.sql", "04_customer_quarantine.sql",
                "05_accelerometer_quarantine.sql", "06_step_trainer_quarantine.sql",
                "07_customer_trusted.sql", "08_accelerometer_trusted.sql",
                "09_customer_curated.sql", "10_step_trainer_trusted.sql",
                "11_machine_learning_curated.sql", "12_data_quality_results.sql"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*expected, "notes.sql"])
    assert result.stdout.splitlines()[:-1] == [str(tmp_path / name) for name in expected]
    assert "00_database.sql first" in result.stdout.splitlines()[-1]
    for name in expected:
        table = name[3:].removesuffix(".sql")
        assert (tmp_path / name).read_text() == athena_ddl.render(table, "my-stedi", "course")
    assert "CREATE DATABASE IF NOT EXISTS `course`" in (tmp_path / expected[0]).read_text()


def test_render_cli_mistake_is_one_line_and_status_2(tmp_path):
    result = run_ddl_cli("render", "--bucket", "Not_A_Bucket", "--out", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "invalid S3 bucket name" in result.stderr
