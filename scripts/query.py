"""Athena-style SQL over the local lake: every table of athena_ddl/ under its own name.

    python -m scripts.query --lake DIR [--format table|csv|json] [--database stedi] "SQL"

The query is written in Athena's dialect (Trino), translated to DuckDB's by sqlglot and run by
an embedded DuckDB. The tables are built from the DDL files themselves (location, columns,
types), so a query sees the columns and types Athena would, with Athena's lowercase names:
JSON landing files are read with the DDL's types, a malformed line being a row of NULLs (as
with the OpenX SerDe's 'ignore.malformed.json'); Parquet zones are read by column name; a table
whose folder holds no files is empty rather than missing.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from scripts import ddl, pipeline
from scripts._cli.errors import CliError, OneLineArgumentParser, fail
from scripts._cli.text_table import box_table

FORMATS = ("table", "csv", "json")
FILE_PATTERNS = {"json": "*.json", "parquet": "*.parquet"}


def duckdb_type(hive_type: str) -> str:
    return exp.DataType.build(hive_type, dialect="hive").sql(dialect="duckdb")


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def data_files(folder: Path, storage: str) -> list[str]:
    """The table's files, in sub-folders too; names starting with _ or . are not data (Athena)."""
    if not folder.is_dir():
        return []
    return sorted(str(path) for path in folder.rglob(FILE_PATTERNS[storage])
                  if not any(part.startswith(("_", "."))
                             for part in path.relative_to(folder).parts))


def empty_table_sql(table: ddl.TableDefinition) -> str:
    columns = ", ".join(f"cast(null as {duckdb_type(kind)}) as {quote(name.lower())}"
                        for name, kind in table.columns)
    return f"select {columns} where false"


def json_table_sql(table: ddl.TableDefinition, files: list[str]) -> str:
    """Landing JSON lines with the DDL's columns; a line that does not parse is all NULLs."""
    struct = ", ".join(f"{sql_string(name)}: {sql_string(duckdb_type(kind))}"
                       for name, kind in table.columns)
    columns = ", ".join(f"{quote(name)} as {quote(name.lower())}" for name, _ in table.columns)
    file_list = ", ".join(sql_string(f) for f in files)
    return (f"select {columns} from read_json([{file_list}], columns = {{{struct}}}, "
            f"format = 'newline_delimited', ignore_errors = true)")


def parquet_table_sql(connection: duckdb.DuckDBPyConnection, table: ddl.TableDefinition,
                      files: list[str]) -> str:
    """Parquet columns matched by name, case-insensitively, as Athena does; absent ones are null."""
    file_list = ", ".join(sql_string(f) for f in files)
    source = f"read_parquet([{file_list}])"
    present = {row[0].lower(): row[0] for row in connection.sql(f"describe select * from {source}")
               .fetchall()}
    columns = ", ".join(
        f"cast({quote(present[name.lower()]) if name.lower() in present else 'null'} "
        f"as {duckdb_type(kind)}) as {quote(name.lower())}"
        for name, kind in table.columns)
    return f"select {columns} from {source}"


def connect(lake: Path, database: str = pipeline.DEFAULT_DATABASE) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with one view per DDL table, in schema ``database`` and on the path."""
    if not lake.is_dir():
        raise CliError(f"lake folder {lake} does not exist")
    connection = duckdb.connect()
    connection.execute(f"create schema {quote(database)}")
    for name, table in ddl.table_definitions().items():
        files = data_files(lake / table.relative_location(ddl.PARSING_BUCKET), table.storage)
        if not files:
            body = empty_table_sql(table)
        elif table.storage == "json":
            body = json_table_sql(table, files)
        else:
            body = parquet_table_sql(connection, table, files)
        connection.execute(f"create view {quote(database)}.{quote(name)} as {body}")
    connection.execute(f"set search_path = {sql_string(database)}")
    return connection


def athena_column_names(select: exp.Expression) -> exp.Expression:
    """Name unnamed result columns _col0, _col1, ... as Athena does (DuckDB would print the
    expression's text)."""
    if isinstance(select, exp.Select):
        select.set("expressions", [
            expression if isinstance(expression, (exp.Alias, exp.Column, exp.Star))
            else expression.as_(f"_col{position}")
            for position, expression in enumerate(select.expressions)])
    return select


def translate(athena_sql: str) -> str:
    """Athena (Trino) SQL to DuckDB SQL; one statement only."""
    try:
        statements = [s for s in sqlglot.parse(athena_sql, read="athena") if s is not None]
    except SqlglotError as error:
        raise CliError(f"cannot parse the query: {str(error).splitlines()[0]}") from error
    if len(statements) != 1:
        raise CliError(f"give one SQL statement, not {len(statements)}")
    return athena_column_names(statements[0]).sql(dialect="duckdb")


def run_query(connection: duckdb.DuckDBPyConnection, athena_sql: str
              ) -> tuple[list[str], list[tuple]]:
    """(column names, rows) of an Athena SQL query."""
    try:
        relation = connection.sql(translate(athena_sql))
        if relation is None:  # a statement that returns nothing
            return [], []
        return list(relation.columns), relation.fetchall()
    except duckdb.Error as error:
        raise CliError(f"query failed: {str(error).splitlines()[0]}") from error


def format_value(value) -> str:
    return "NULL" if value is None else str(value)


def render(columns: list[str], rows: list[tuple], output_format: str) -> str:
    if output_format == "json":
        return json.dumps([dict(zip(columns, row)) for row in rows], default=str, indent=1)
    if output_format == "csv":
        from io import StringIO

        buffer = StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
        return buffer.getvalue().rstrip("\n")
    numeric = frozenset(i for i, _ in enumerate(columns)
                        if rows and all(isinstance(r[i], (int, float)) or r[i] is None
                                        for r in rows))
    table = box_table(columns, [[format_value(v) for v in row] for row in rows], numeric)
    return f"{table}\n({len(rows)} row{'s' if len(rows) != 1 else ''})"


def main(argv: list[str] | None = None) -> int:
    parser = OneLineArgumentParser(prog="query", description=__doc__.split("\n\n")[0])
    parser.add_argument("--lake", type=Path, required=True)
    parser.add_argument("--format", choices=FORMATS, default="table")
    parser.add_argument("--database", default=pipeline.DEFAULT_DATABASE)
    parser.add_argument("sql", help="one Athena SQL statement")
    args = parser.parse_args(argv)
    try:
        columns, rows = run_query(connect(args.lake, args.database), args.sql)
    except CliError as error:
        fail(str(error))
    print(render(columns, rows, args.format))
    return 0


if __name__ == "__main__":
    sys.exit(main())
