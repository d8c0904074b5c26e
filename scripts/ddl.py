"""The Athena DDL of athena_ddl/: rendering it for a bucket, and reading tables back from it.

    python -m scripts.ddl render --bucket B [--database stedi] --out DIR

Each file of athena_ddl/ creates one Glue catalog table, with ``${bucket}`` and ``${database}``
placeholders. ``render`` fills them in for users of the Athena console; the deploy tool runs the
same rendered statements, and the local query tool builds its tables from the parsed DDL, so the
DDL files are the only place where the tables' columns, types and locations are written down.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from string import Template

import sqlglot
from sqlglot import exp

from scripts import pipeline
from scripts._cli.errors import CliError, OneLineArgumentParser, fail

DDL_DIR = Path(__file__).resolve().parents[1] / "athena_ddl"
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

    def relative_location(self, bucket: str) -> str:
        """The location below the lake root, e.g. ``customer/landing``."""
        return self.location.removeprefix(f"s3://{bucket}/").strip("/")


def ddl_file(table_name: str) -> Path:
    return DDL_DIR / f"{table_name}.sql"


def validate_names(bucket: str, database: str) -> None:
    if not BUCKET_NAME.match(bucket) or ".." in bucket:
        raise CliError(f"invalid S3 bucket name {bucket!r}: use 3-63 lowercase letters, digits, "
                       "dots and hyphens, starting and ending with a letter or digit")
    if not DATABASE_NAME.match(database):
        raise CliError(f"invalid database name {database!r}: use lowercase letters, digits "
                       "and underscores")


def render(table_name: str, bucket: str, database: str = pipeline.DEFAULT_DATABASE) -> str:
    """The table's DDL with bucket and database filled in (any other placeholder is an error)."""
    validate_names(bucket, database)
    return Template(ddl_file(table_name).read_text()).substitute(bucket=bucket, database=database)


def render_all(bucket: str, database: str = pipeline.DEFAULT_DATABASE) -> dict[str, str]:
    """Every catalog table's rendered DDL, in pipeline order (landing tables first, the
    quarantine tables last)."""
    return {table.name: render(table.name, bucket, database)
            for table in pipeline.CATALOG_TABLES}


def statement(ddl: str) -> str:
    """The DDL without comments and the closing semicolon: what Athena's API runs."""
    lines = [line for line in ddl.splitlines() if not line.lstrip().startswith("--")]
    return "\n".join(lines).strip().rstrip(";").strip()


def parse(ddl: str) -> TableDefinition:
    """Columns, location and storage of one rendered CREATE EXTERNAL TABLE statement."""
    create = sqlglot.parse_one(statement(ddl), read="athena")
    if not isinstance(create, exp.Create):
        raise ValueError(f"not a CREATE TABLE statement: {ddl[:80]!r}")
    schema = create.this
    columns = tuple((column.name, column.args["kind"].sql(dialect="hive").lower())
                    for column in schema.expressions)
    serde = create.find(exp.RowFormatSerdeProperty)
    storage = "json" if serde is not None and serde.this.name == JSON_SERDE else "parquet"
    return TableDefinition(name=schema.this.name, columns=columns,
                           location=create.find(exp.LocationProperty).this.name, storage=storage)


def table_definitions(bucket: str = PARSING_BUCKET) -> dict[str, TableDefinition]:
    """Every table of athena_ddl/, parsed, in pipeline order."""
    return {name: parse(ddl) for name, ddl in render_all(bucket).items()}


def write_rendered(bucket: str, database: str, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, ddl in render_all(bucket, database).items():
        path = out / f"{name}.sql"
        path.write_text(ddl)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = OneLineArgumentParser(prog="ddl", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    render_command = commands.add_parser("render", help="write ready-to-paste DDL for a bucket")
    render_command.add_argument("--bucket", required=True)
    render_command.add_argument("--database", default=pipeline.DEFAULT_DATABASE)
    render_command.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        written = write_rendered(args.bucket, args.database, args.out)
    except CliError as error:
        fail(str(error))
    for path in written:
        print(path)
    print(f"{len(written)} tables for s3://{args.bucket} in database {args.database}: paste "
          "each file into the Athena query editor, landing tables first")
    return 0


if __name__ == "__main__":
    sys.exit(main())
