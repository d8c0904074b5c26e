"""Render the Athena DDL of athena_ddl/ for a bucket, ready to paste into the Athena console.

    python -m scripts.ddl render --bucket B [--database stedi] --out DIR

Writes the database's statement and each table's, with ``${bucket}`` and ``${database}`` filled
in, numbered in the order they must run (00_database.sql first). The rendering is
scripts/lake/athena_ddl.py's, the same that deploy and the local query engine run.
"""

from __future__ import annotations

import sys
from pathlib import Path

from scripts._cli.errors import CliError, OneLineArgumentParser, fail
from scripts.lake import pipeline
from scripts.lake.athena_ddl import write_rendered


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
    print(f"the database {args.database} and {len(written) - 1} tables for s3://{args.bucket}: "
          "paste each file into the Athena query editor, in the order of their numbers "
          f"({written[0].name} first)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
