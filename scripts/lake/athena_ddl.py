"""The Athena DDL of athena_ddl/: rendering it for a bucket, and reading tables back from it.

athena_ddl/database.sql creates the Glue catalog database; each other file of athena_ddl/ creates
one catalog table in it, with ``${bucket}`` and ``${database}`` placeholders. The files run in one
order, ``ddl_files_in_order()``: the database first. ``render`` fills the placeholders in for
users of the Athena console and numbers the files in that order (``python -m scripts.ddl
render``); the deploy tool runs the same rendered statements in that order, and so does the local
query engine, on its own catalog, so the DDL files are the only place where the tables' columns,
types and locations are written down.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from string import Template

import sqlglot
from sqlglot import exp

from scripts._cli.errors import CliError
from scripts.lake import pipeline

DDL_DIR = Path(__file__).resolve().parents[2] / "athena_ddl"

JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe"

# S3 bucket naming rules (lowercase letters, digits, dots and hyphens; 3 to 63 characters).
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")

# Glue database names that Athena accepts without quoting trouble.
DATABASE_NAME = re.compile(r"^[a-z0-9_]{1,255}$")

# Any valid bucket works for parsing: placeholders are not SQL.
PARSING_BUCKET = "stedi-ddl-parsing"


@dataclass(frozen=True)
class TableDefinition:
    """What a DDL statement says about a table."""

    name: str
    columns: tuple[tuple[str, str], ...]  # (column name as written, Hive type in lowercase)
    location: str  # s3://bucket/customer/landing/
    storage: str  # "json" or "parquet"
    database: str = ""  # the database the statement creates the table in

    def relative_location(self, bucket: str) -> str:
        """The location below the lake root, e.g. ``customer/landing``."""
        return self.location.removeprefix(f"s3://{bucket}/").strip("/")

# athena_ddl/database.sql: the CREATE DATABASE statement, run before every table's.
DATABASE_DDL = "database"


def ddl_file(name: str) -> Path:
    """athena_ddl/<name>.sql: a table's file, or the database's (``DATABASE_DDL``)."""
    return DDL_DIR / f"{name}.sql"


def ddl_files_in_order() -> tuple[str, ...]:
    """The files of athena_ddl/ (names without .sql) in the one order they are run, in the Athena
    console, by deploy and by the local query tool: the database first (a table cannot be
    created in a database that does not exist), then the landing tables, the quarantine tables
    their jobs write, the tables the jobs write, in the order the jobs run, and the jobs'
    data-quality results."""
    return (DATABASE_DDL,
            *(t.name for t in pipeline.landing_tables()),
            *(t.name for t in pipeline.QUARANTINE_TABLES),
            *(t.name for t in pipeline.output_tables()),
            pipeline.DATA_QUALITY_TABLE.name)


def numbered_name(name: str) -> str:
    """The rendered file's name, numbered in run order: 00_database.sql, 01_customer_landing.sql."""
    return f"{ddl_files_in_order().index(name):02d}_{name}.sql"


def validate_names(bucket: str, database: str) -> None:
    if not BUCKET_NAME.match(bucket) or ".." in bucket:
        raise CliError(f"invalid S3 bucket name {bucket!r}: use 3-63 lowercase letters, digits, "
                       "dots and hyphens, starting and ending with a letter or digit")
    if not DATABASE_NAME.match(database):
        raise CliError(f"invalid database name {database!r}: use lowercase letters, digits "
                       "and underscores")


def render(name: str, bucket: str, database: str = pipeline.DEFAULT_DATABASE) -> str:
    """A file's DDL (a table's or the database's) with bucket and database filled in (any other
    placeholder is an error)."""
    validate_names(bucket, database)
    return Template(ddl_file(name).read_text()).substitute(bucket=bucket, database=database)


def render_in_order(bucket: str, database: str = pipeline.DEFAULT_DATABASE
                    ) -> list[tuple[str, str]]:
    """(name, rendered DDL) of every file of athena_ddl/, in ``ddl_files_in_order()``."""
    return [(name, render(name, bucket, database)) for name in ddl_files_in_order()]


def render_all(bucket: str, database: str = pipeline.DEFAULT_DATABASE) -> dict[str, str]:
    """Every catalog table's rendered DDL (not the database's), in ``ddl_files_in_order()``."""
    return {name: text for name, text in render_in_order(bucket, database)
            if name != DATABASE_DDL}


def statement(ddl: str) -> str:
    """The DDL without comments and the closing semicolon: what Athena's API runs."""
    lines = [line for line in ddl.splitlines() if not line.lstrip().startswith("--")]
    return "\n".join(lines).strip().rstrip(";").strip()


def created_database(ddl: str) -> str | None:
    """The database a rendered CREATE DATABASE statement creates; None for any other statement."""
    if not re.match(r"CREATE\s+(DATABASE|SCHEMA)\b", statement(ddl), re.IGNORECASE):
        return None
    create = sqlglot.parse_one(statement(ddl), read="athena")
    if isinstance(create, exp.Create) and create.kind in ("DATABASE", "SCHEMA"):
        return create.this.name
    return None


def parse(ddl: str) -> TableDefinition:
    """Columns, location and storage of one rendered CREATE EXTERNAL TABLE statement."""
    create = sqlglot.parse_one(statement(ddl), read="athena")
    if not isinstance(create, exp.Create) or create.kind != "TABLE":
        raise ValueError(f"not a CREATE TABLE statement: {statement(ddl)[:80]!r}")
    schema = create.this
    columns = tuple((column.name, column.args["kind"].sql(dialect="hive").lower())
                    for column in schema.expressions)
    serde = create.find(exp.RowFormatSerdeProperty)
    storage = "json" if serde is not None and serde.this.name == JSON_SERDE else "parquet"
    return TableDefinition(name=schema.this.name, columns=columns,
                           location=create.find(exp.LocationProperty).this.name, storage=storage,
                           database=schema.this.db)


def table_definitions(bucket: str = PARSING_BUCKET) -> dict[str, TableDefinition]:
    """Every table of athena_ddl/, parsed, in ``ddl_files_in_order()``."""
    return {name: parse(ddl) for name, ddl in render_all(bucket).items()}


def write_rendered(bucket: str, database: str, out: Path) -> list[Path]:
    """Write every file rendered, numbered in run order (00_database.sql first), into ``out``;
    a rendering of athena_ddl/ left there before, numbered or not, is removed, so that the
    folder lists exactly the files to run, in order."""
    rendered = render_in_order(bucket, database)  # first, so that a mistake leaves out alone
    out.mkdir(parents=True, exist_ok=True)
    names = set(ddl_files_in_order())
    for old in out.glob("*.sql"):
        if old.stem in names or (old.stem[:2].isdigit() and old.stem[2:3] == "_"
                                 and old.stem[3:] in names):
            old.unlink()
    written = []
    for name, ddl in rendered:
        path = out / numbered_name(name)
        path.write_text(ddl)
        written.append(path)
    return written
