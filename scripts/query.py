"""Athena-style SQL over the local lake: every table of athena_ddl/ under its own name.

    python -m scripts.query --lake DIR [--format table|csv|json] [--database stedi] "SQL"

The query is written in Athena's dialect (Trino) and answered by the local query engine
(scripts/lake/query_engine.py: sqlglot's translation, mended to mean what it means in Athena,
run by an embedded DuckDB on a catalog made by the DDL files themselves). Values print as Athena
prints them: timestamps with milliseconds and their zone, doubles as Java writes them.
"""

from __future__ import annotations

import csv
import datetime
import decimal
import json
import math
import sys
from pathlib import Path

from scripts._cli.errors import CliError, OneLineArgumentParser, fail
from scripts._cli.text_table import box_table
from scripts.lake import pipeline
from scripts.lake.query_engine import UTC, UTC_NAMES, connect, run_query

FORMATS = ("table", "csv", "json")


def java_double(value: float) -> str:
    """A double as Athena writes it (Java's Double.toString): plain from 10^-3 to 10^7,
    otherwise as 1.717201544417E9."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        return repr(value)
    sign, digits, exponent = decimal.Decimal(repr(value)).as_tuple()
    scientific_exponent = exponent + len(digits) - 1
    text = "".join(map(str, digits)).rstrip("0") or "0"
    return f"{'-' if sign else ''}{text[0]}.{text[1:] or '0'}E{scientific_exponent}"


def zone_label(moment: datetime.datetime) -> str:
    """The zone of a timestamp with time zone as Athena prints it: UTC, a region's name, or an
    offset such as +02:00."""
    name = getattr(moment.tzinfo, "zone", None) or moment.tzname() or UTC
    if name.lower() in UTC_NAMES:
        return UTC
    if name.startswith("Etc/GMT"):
        minutes = int(moment.utcoffset().total_seconds()) // 60
        return f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return name


def format_value(value) -> str:
    """A value as Athena prints it: timestamp(3) with millisecond digits, a timestamp with time
    zone with its zone (2024-06-01 00:25:44.417 UTC), doubles as Java writes them, booleans in
    lowercase, intervals as 1 02:03:04.000."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, datetime.datetime):
        # Athena's timestamps hold milliseconds (timestamp(3)), DuckDB's microseconds.
        shown = value + datetime.timedelta(microseconds=500)
        text = shown.strftime("%Y-%m-%d %H:%M:%S") + f".{shown.microsecond // 1000:03d}"
        return text if value.tzinfo is None else f"{text} {zone_label(value)}"
    if isinstance(value, datetime.timedelta):
        milliseconds = abs(value) // datetime.timedelta(milliseconds=1)
        seconds, millisecond = divmod(milliseconds, 1000)
        minutes, second = divmod(seconds, 60)
        hours, minute = divmod(minutes, 60)
        days, hour = divmod(hours, 24)
        sign = "-" if value < datetime.timedelta(0) else ""
        return f"{sign}{days} {hour:02d}:{minute:02d}:{second:02d}.{millisecond:03d}"
    if isinstance(value, list):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return str(value)


def json_value(value):
    """JSON's own types where they fit; other values as Athena prints them."""
    if isinstance(value, list):
        return [json_value(v) for v in value]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    return format_value(value)


def render(columns: list[str], rows: list[tuple], output_format: str) -> str:
    if output_format == "json":
        return json.dumps([dict(zip(columns, map(json_value, row))) for row in rows], indent=1)
    if output_format == "csv":
        from io import StringIO

        buffer = StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([["" if v is None else format_value(v) for v in row] for row in rows])
        return buffer.getvalue().rstrip("\n")
    numeric = frozenset(i for i, _ in enumerate(columns)
                        if rows and all(isinstance(r[i], (int, float, decimal.Decimal))
                                        or r[i] is None for r in rows))
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
