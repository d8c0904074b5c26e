"""The course's verification queries, run locally in Athena's SQL: pass or fail for each.

    python -m scripts.check --lake DIR

Checks: every table's row count equals the last local run's report (or is not zero when there
is no report); a landing table's equals the records its landing job accounted for, accepted and
quarantined (Athena reads a quarantined line as a row of NULLs); customer_landing has customers
without research consent, customer_trusted has
none; machine_learning_curated has no personal column and no value equal to a serial number
(its devices are named by keyed hashes). Exit status 1 when a check fails.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from scripts._cli.errors import CliError, OneLineArgumentParser, fail
from scripts.lake import pipeline
from scripts.lake.query_engine import connect, run_query
from scripts.lake.run_report import read_accounting

PERSONAL_COLUMNS = ("customername", "email", "phone", "birthday", "serialnumber")


@dataclass(frozen=True)
class Check:
    description: str
    sql: str
    passes: Callable[[int], bool]
    expectation: str


def expected_count(report: dict | None, accounting: dict[str, dict],
                   table: pipeline.Table) -> int | None:
    """The rows Athena's table should have after the last run, or None when it is unknown."""
    if table.is_landing:
        counts = accounting.get(table.source)
        return counts["accepted"] + counts["quarantined"] if counts else None
    return report["tables"].get(table.name) if report else None


def count_checks(report: dict | None, accounting: dict[str, dict]) -> list[Check]:
    checks = []
    for table in pipeline.TABLES:
        expected = expected_count(report, accounting, table)
        if expected is None:
            checks.append(Check(f"{table.name} has rows", f"select count(*) from {table.name}",
                                lambda n: n > 0, "> 0"))
        else:
            checks.append(Check(f"{table.name} rows match the run report",
                                f"select count(*) from {table.name}",
                                lambda n, e=expected: n == e, f"= {expected}"))
    return checks


def content_checks() -> list[Check]:
    personal = ", ".join(f"'{c}'" for c in PERSONAL_COLUMNS)
    return [
        Check("customer_landing has customers without research consent",
              "select count(*) from customer_landing where sharewithresearchasofdate is null",
              lambda n: n > 0, "> 0"),
        Check("customer_trusted has only customers with research consent",
              "select count(*) from customer_trusted where sharewithresearchasofdate is null",
              lambda n: n == 0, "= 0"),
        Check("machine_learning_curated has no personal columns",
              "select count(*) from information_schema.columns "
              f"where table_name = 'machine_learning_curated' and column_name in ({personal})",
              lambda n: n == 0, "= 0"),
        Check("machine_learning_curated holds no serial number",
              "select count(*) from machine_learning_curated where deviceid in ("
              "select serialnumber from customer_landing union "
              "select serialnumber from step_trainer_landing)",
              lambda n: n == 0, "= 0"),
    ]


def load_report(lake: Path) -> dict | None:
    path = lake / "_reports" / "latest.json"
    return json.loads(path.read_text()) if path.exists() else None


def run_checks(lake: Path) -> list[tuple[Check, int, bool]]:
    connection = connect(lake)
    results = []
    for check in count_checks(load_report(lake), read_accounting(lake)) + content_checks():
        _, [(value,)] = run_query(connection, check.sql)
        results.append((check, value, check.passes(value)))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = OneLineArgumentParser(prog="check", description=__doc__.split("\n\n")[0])
    parser.add_argument("--lake", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        results = run_checks(args.lake)
    except CliError as error:
        fail(str(error))
    for check, value, passed in results:
        print(f"{'PASS' if passed else 'FAIL'}  {check.description}: {value} "
              f"(expected {check.expectation})")
        print(f"      {check.sql}")
    failed = sum(not passed for _, _, passed in results)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
