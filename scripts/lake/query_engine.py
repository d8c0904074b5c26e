"""Athena-style SQL over the local lake: every table of athena_ddl/ under its own name.

The query is written in Athena's dialect (Trino), translated to DuckDB's by sqlglot and run by
an embedded DuckDB. The catalog is made by running the DDL files themselves, in their one order
(``athena_ddl.ddl_files_in_order()``: the database first), so a query sees the columns and types
Athena would, with Athena's lowercase names: JSON landing files are read with the DDL's types, a
malformed line being a row of NULLs (as with the OpenX SerDe's 'ignore.malformed.json'); Parquet
zones are read by column name; a table whose folder holds no files is empty rather than missing.

Where sqlglot's translation means something else in DuckDB, the tree is mended to mean what it
means in Athena: integer division stays integer (the DDL's column types are known), timestamps
with time zone live in Athena's session zone, UTC (or in the one zone the query names), the
approximate aggregates are answered exactly (within Athena's error), date_diff counts whole
units, format_datetime/parse_datetime patterns are Java's. ``python -m scripts.query`` prints
the values as Athena prints them; erase and check read them here.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import NamedTuple

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify

from scripts._cli.errors import CliError
from scripts.lake import athena_ddl, pipeline

# sqlglot's warnings (say, "falling back to parsing as a 'Command'" for SHOW TABLES) are not
# the user's business: a query either runs or fails in one line.
logging.getLogger("sqlglot").setLevel(logging.ERROR)


FILE_PATTERNS = {"json": "*.json", "parquet": "*.parquet"}

# Athena runs every query in the session time zone UTC; these names are UTC too.
UTC = "UTC"

UTC_NAMES = frozenset({"utc", "etc/utc", "z", "zulu", "gmt", "etc/gmt", "uct", "universal",
                       "+00:00", "-00:00"})


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


def empty_table_sql(table: athena_ddl.TableDefinition) -> str:
    columns = ", ".join(f"cast(null as {duckdb_type(kind)}) as {quote(name.lower())}"
                        for name, kind in table.columns)
    return f"select {columns} where false"


def json_table_sql(table: athena_ddl.TableDefinition, files: list[str]) -> str:
    """Landing JSON lines with the DDL's columns; a line that does not parse is all NULLs."""
    struct = ", ".join(f"{sql_string(name)}: {sql_string(duckdb_type(kind))}"
                       for name, kind in table.columns)
    columns = ", ".join(f"{quote(name)} as {quote(name.lower())}" for name, _ in table.columns)
    file_list = ", ".join(sql_string(f) for f in files)
    return (f"select {columns} from read_json([{file_list}], columns = {{{struct}}}, "
            f"format = 'newline_delimited', ignore_errors = true)")


def parquet_table_sql(connection: duckdb.DuckDBPyConnection, table: athena_ddl.TableDefinition,
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


def run_ddl(connection: duckdb.DuckDBPyConnection, lake: Path, rendered: str,
            bucket: str = athena_ddl.PARSING_BUCKET) -> None:
    """Run one rendered file of athena_ddl/ on the local catalog, as Athena runs it on Glue's:
    CREATE DATABASE makes a schema; CREATE EXTERNAL TABLE makes a view over the table's files
    under ``lake`` in its database, which must exist already (in Athena as here, a table
    statement run before its database's fails)."""
    database = athena_ddl.created_database(rendered)
    if database is not None:
        connection.execute(f"create schema if not exists {quote(database)}")
        return
    table = athena_ddl.parse(rendered)
    files = data_files(lake / table.relative_location(bucket), table.storage)
    if not files:
        body = empty_table_sql(table)
    elif table.storage == "json":
        body = json_table_sql(table, files)
    else:
        body = parquet_table_sql(connection, table, files)
    try:
        connection.execute(f"create view if not exists {quote(table.database)}."
                           f"{quote(table.name)} as {body}")
    except duckdb.CatalogException as error:  # DuckDB: Schema with name ... does not exist!
        raise CliError(f"cannot create table {table.database}.{table.name} "
                       f"({str(error).splitlines()[0]}): run {athena_ddl.DATABASE_DDL}.sql first"
                       ) from error


def connect(lake: Path, database: str = pipeline.DEFAULT_DATABASE) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection whose catalog the DDL files made, run in their order: schema
    ``database`` (also on the search path) with one view per table."""
    if not lake.is_dir():
        raise CliError(f"lake folder {lake} does not exist")
    connection = duckdb.connect()
    for _, rendered in athena_ddl.render_in_order(athena_ddl.PARSING_BUCKET, database):
        run_ddl(connection, lake, rendered)
    connection.execute(f"set search_path = {sql_string(database)}")
    connection.execute(f"set TimeZone = {sql_string(UTC)}")
    return connection


def athena_column_names(statement: exp.Expression) -> exp.Expression:
    """Name unnamed result columns _col0, _col1, ... as Athena does (DuckDB would print the
    expression's text); a UNION's columns are named by its first SELECT."""
    select = statement
    while isinstance(select, exp.SetOperation):
        select = select.this
    if isinstance(select, exp.Select):
        select.set("expressions", [
            expression if isinstance(expression, (exp.Alias, exp.Column, exp.Star))
            else expression.as_(f"_col{position}")
            for position, expression in enumerate(select.expressions)])
    return statement


class Translation(NamedTuple):
    sql: str  # DuckDB SQL
    time_zone: str  # DuckDB's TimeZone setting for the query: Athena's UTC or the query's zone


def parse_statement(athena_sql: str) -> exp.Expression:
    try:
        statements = [s for s in sqlglot.parse(athena_sql, read="athena") if s is not None]
    except SqlglotError as error:
        raise CliError(f"cannot parse the query: {str(error).splitlines()[0]}") from error
    if len(statements) != 1:
        raise CliError(f"give one SQL statement, not {len(statements)}")
    return statements[0]


def with_types(statement: exp.Expression, schema: dict | None, database: str) -> exp.Expression:
    """The statement qualified and typed with the catalog's column types, so that sqlglot
    translates what depends on them as Athena means it: ``bigint / 1000`` is an integer
    division in Athena. A statement that cannot be qualified (say, an unknown column) is left
    as it is, for DuckDB to report."""
    if not schema:
        return statement
    try:
        qualified = qualify(statement.copy(), schema=schema, db=database, dialect="athena",
                            quote_identifiers=True)
        return annotate_types(qualified, schema=schema, dialect="athena")
    except Exception:  # sqlglot's optimizer on a statement it does not know: leave it be
        return statement


def function_call(node: exp.Expression, name: str) -> bool:
    return isinstance(node, exp.Anonymous) and node.name.lower() == name


def zone_argument(node: exp.Expression) -> exp.Expression | None:
    """The time zone argument of at_timezone, with_timezone, AT TIME ZONE, from_unixtime(x, z)."""
    if isinstance(node, exp.AtTimeZone):
        return node.args.get("zone")
    if isinstance(node, exp.UnixToTime):
        return node.args.get("zone")
    if (function_call(node, "at_timezone") or function_call(node, "with_timezone")) \
            and len(node.expressions) == 2:
        return node.expressions[1]
    return None


def converts_to_a_zone(node: exp.Expression) -> bool:
    return isinstance(node, exp.AtTimeZone) or function_call(node, "at_timezone")


def in_session_zone(node: exp.Expression) -> bool:
    """Whether Athena gives this value the session time zone, UTC."""
    if isinstance(node, exp.UnixToTime) and node.args.get("zone") is None:
        return True
    return isinstance(node, (exp.CurrentTimestamp, exp.FromISO8601Timestamp, exp.ParseDatetime))


def zone_name(argument: exp.Expression) -> str:
    if not (isinstance(argument, exp.Literal) and argument.is_string):
        raise CliError("give the time zone as a string literal, e.g. 'America/New_York' "
                       f"(locally a time zone cannot be computed: {argument.sql('athena')})")
    return UTC if argument.name.lower() in UTC_NAMES else argument.name


def read_in_session_zone(node: exp.Expression) -> bool:
    """Whether this is a date or timestamp without time zone that Athena reads in its session
    zone, UTC, where it meets a timestamp with time zone: current_date, localtimestamp, a date
    or timestamp literal."""
    if isinstance(node, (exp.CurrentDate, exp.Localtimestamp)):
        return True
    return (isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal)
            and node.this.is_string and node.to.this in (exp.DataType.Type.DATE,
                                                         exp.DataType.Type.TIMESTAMP))


def zoned_value(call: exp.Expression) -> exp.Expression | None:
    """The value at_timezone, AT TIME ZONE or with_timezone gives a zone."""
    if isinstance(call, exp.AtTimeZone):
        return call.this
    if (function_call(call, "at_timezone") or function_call(call, "with_timezone")) \
            and call.expressions:
        return call.expressions[0]
    return None


def given_a_zone(node: exp.Expression, *, only_with_timezone: bool = False) -> bool:
    """Whether ``node`` (in parentheses or not) is the value an at_timezone, AT TIME ZONE or
    with_timezone call gives a zone (only with_timezone's: ``only_with_timezone``)."""
    while isinstance(node.parent, exp.Paren):
        node = node.parent
    call = node.parent
    if call is None or zoned_value(call) is not node:
        return False
    return function_call(call, "with_timezone") or not only_with_timezone


def query_time_zone(statement: exp.Expression) -> str:
    """The time zone of the query's timestamps with time zone: UTC, Athena's session zone, or
    the one other zone the query names (at_timezone, with_timezone, AT TIME ZONE,
    from_unixtime(x, zone)). DuckDB keeps one zone per session where Athena keeps one per
    value and reads dates and timestamps without zone in UTC, so in a query naming another zone
    every UTC timestamp must be converted to it where it is made, and a date or timestamp
    without zone may only be given that zone by with_timezone; otherwise (a value left in UTC
    would be truncated, formatted and printed in the other zone) the query is refused rather
    than answered differently, and so is one naming two zones besides UTC."""
    named = {zone_name(argument) for node in statement.walk()
             if (argument := zone_argument(node)) is not None}
    others = sorted(named - {UTC})
    if not others:
        return UTC
    if len(others) > 1:
        raise CliError(f"locally a query can name one time zone besides UTC, not "
                       f"{', '.join(others)}")
    zone = others[0]
    for node in statement.walk():
        utc_value = in_session_zone(node) or (
            zone_argument(node) is not None and zone_name(zone_argument(node)) == UTC)
        if utc_value and not given_a_zone(node):
            raise CliError(f"locally a query naming the time zone {zone} must convert each "
                           f"UTC timestamp to it: write at_timezone({node.sql('athena')}, "
                           f"'{zone}')")
        if read_in_session_zone(node) and not given_a_zone(node, only_with_timezone=True):
            raise CliError(f"locally a query naming the time zone {zone} can use "
                           f"{node.sql('athena')} only as with_timezone({node.sql('athena')}, "
                           f"'{zone}'): Athena would read it in UTC")
    return zone


def duckdb_time_zone(zone: str) -> str:
    """Athena's zone name as DuckDB's TimeZone: a name as it is, a whole-hour offset such as
    '+02:00' as 'Etc/GMT-2' (the POSIX sign is the other way round)."""
    offset = re.fullmatch(r"([+-])(\d{2}):(\d{2})", zone)
    if offset is None:
        return zone
    sign, hours, minutes = offset.groups()
    if minutes != "00":
        raise CliError(f"locally a time zone offset must be whole hours, not {zone}")
    return f"Etc/GMT{'-' if sign == '+' else '+'}{int(hours)}"


def java_pattern_to_strftime(pattern: str) -> str:
    """A Java (Joda) date-time pattern of format_datetime/parse_datetime as a strftime format."""
    letters = {"yyyy": "%Y", "yy": "%y", "y": "%Y", "MMMM": "%B", "MMM": "%b", "MM": "%m",
               "M": "%-m", "dd": "%d", "d": "%-d", "HH": "%H", "H": "%-H", "hh": "%I", "h": "%-I",
               "mm": "%M", "m": "%-M", "ss": "%S", "s": "%-S", "SSS": "%g", "SSSSSS": "%f",
               "a": "%p", "EEEE": "%A", "EEE": "%a", "E": "%a", "DDD": "%j", "D": "%-j",
               "Z": "%z", "z": "%Z"}
    result = []
    for match in re.finditer(
            r"'(?P<quoted>(?:[^']|'')*)'|(?P<run>(?P<letter>[A-Za-z])(?P=letter)*)|(?P<other>.)",
            pattern, re.DOTALL):
        if match["run"] is not None:
            run = match["run"]
            if run.startswith("E") and len(run) > 4 or run.startswith("M") and len(run) > 4:
                run = run[:4]
            if run not in letters:
                raise CliError(f"locally the date-time pattern letters {run!r} are not "
                               f"supported (in {pattern!r})")
            result.append(letters[run])
        else:
            text = match["other"] if match["quoted"] is None else (match["quoted"] or "'")
            result.append(text.replace("''", "'").replace("%", "%%"))
    return "".join(result)


def string_argument(node: exp.Expression, what: str) -> str:
    if not (isinstance(node, exp.Literal) and node.is_string):
        raise CliError(f"locally {what} must be a string literal")
    return node.name


def as_duckdb_call(name: str, *arguments: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(arguments))


def instant(value: exp.Expression) -> exp.Expression:
    """A timestamp with time zone as DuckDB's TIMESTAMPTZ (an instant, shown in the session's
    zone); a timestamp without one is taken in Athena's session zone, UTC."""
    return exp.Case(ifs=[exp.If(this=exp.EQ(this=as_duckdb_call("TYPEOF", value.copy()),
                                            expression=exp.Literal.string(
                                                "TIMESTAMP WITH TIME ZONE")),
                                true=exp.cast(value.copy(), "TIMESTAMPTZ"))],
                    default=as_duckdb_call("TIMEZONE", exp.Literal.string(UTC),
                                           exp.cast(value.copy(), "TIMESTAMP")))


def mend(node: exp.Expression) -> exp.Expression:
    """One node of the Athena tree rewritten where DuckDB would give another answer."""
    if isinstance(node, exp.ApproxDistinct):
        # DuckDB's approx_count_distinct errs by far more than Athena's 2.3 %: count exactly.
        return exp.Count(this=exp.Distinct(expressions=[node.this]))
    if isinstance(node, exp.ApproxQuantile):
        if node.args.get("weight") is not None or node.args.get("accuracy") is not None:
            raise CliError("locally approx_percentile takes no weight or accuracy")
        # Exact: the smallest value with at least a fraction p of the values at or below it
        # (DuckDB's approx_quantile interpolates and errs).
        return as_duckdb_call("QUANTILE_DISC", node.this, node.args["quantile"])
    if isinstance(node, exp.DateDiff):
        # Athena counts whole units between the two; DuckDB's date_diff counts boundaries.
        unit = node.args.get("unit")
        return as_duckdb_call("DATE_SUB", exp.Literal.string(unit.name if unit else "DAY"),
                              node.expression, node.this)
    if converts_to_a_zone(node):
        # The instant is kept; the session's zone is the zone the query names.
        return instant(node.this if isinstance(node, exp.AtTimeZone) else node.expressions[0])
    if function_call(node, "with_timezone") and len(node.expressions) == 2:
        zone = duckdb_time_zone(zone_name(node.expressions[1]))
        return as_duckdb_call("TIMEZONE", exp.Literal.string(zone),
                              exp.cast(node.expressions[0], "TIMESTAMP"))
    if function_call(node, "format_datetime") and len(node.expressions) == 2:
        pattern = string_argument(node.expressions[1], "format_datetime's pattern")
        return as_duckdb_call("STRFTIME", node.expressions[0],
                              exp.Literal.string(java_pattern_to_strftime(pattern)))
    if isinstance(node, exp.ParseDatetime):
        pattern = string_argument(node.args["format"], "parse_datetime's pattern")
        return exp.cast(as_duckdb_call("STRPTIME", node.this,
                                       exp.Literal.string(java_pattern_to_strftime(pattern))),
                        "TIMESTAMPTZ")
    return node


def translate(athena_sql: str, schema: dict | None = None,
              database: str = pipeline.DEFAULT_DATABASE) -> Translation:
    """Athena (Trino) SQL to DuckDB SQL, one statement only; ``schema`` ({database: {table:
    {column: type}}}) types the columns."""
    statement = athena_column_names(parse_statement(athena_sql))
    zone = query_time_zone(statement)
    mended = with_types(statement, schema, database).transform(mend)
    return Translation(mended.sql(dialect="duckdb"), duckdb_time_zone(zone))


def catalog_schema(connection: duckdb.DuckDBPyConnection) -> dict:
    """{database: {table: {column: type}}} of the connection's views."""
    schema: dict = {}
    for database, table, column, kind in connection.sql(
            "select table_schema, table_name, column_name, data_type "
            "from information_schema.columns where table_schema not in "
            "('information_schema', 'pg_catalog') order by table_schema, table_name, "
            "ordinal_position").fetchall():
        schema.setdefault(database, {}).setdefault(table, {})[column] = kind
    return schema


def run_query(connection: duckdb.DuckDBPyConnection, athena_sql: str
              ) -> tuple[list[str], list[tuple]]:
    """(column names, rows) of an Athena SQL query."""
    try:
        [(database,)] = connection.sql("select current_schema()").fetchall()
        translation = translate(athena_sql, catalog_schema(connection), database)
        connection.execute(f"set TimeZone = {sql_string(translation.time_zone)}")
        relation = connection.sql(translation.sql)
        if relation is None:  # a statement that returns nothing
            return [], []
        return list(relation.columns), relation.fetchall()
    except duckdb.Error as error:
        raise CliError(f"query failed: {str(error).splitlines()[0]}") from error
