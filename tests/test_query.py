"""Athena-style local queries over the lake, and the course's verification checks."""

from __future__ import annotations

import datetime
import functools
import json
import math
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from scripts import check, query
from scripts._cli.errors import CliError
from scripts.lake import pipeline, query_engine
from tests.support import REPO_ROOT


def scalar(lake, sql: str):
    _, [(value,)] = query_engine.run_query(query_engine.connect(lake), sql)
    return value


def test_every_table_counts_what_the_run_report_says(pipeline_lake):
    report = json.loads((pipeline_lake / "_reports" / "latest.json").read_text())
    connection = query_engine.connect(pipeline_lake)
    counts = {t.name: query_engine.run_query(connection, f"select count(*) from {t.name}")[1][0][0]
              for t in pipeline.TABLES}
    assert counts == report["tables"]
    assert report["rejected"] == {"customer": 0, "accelerometer": 0, "step_trainer": 0}


def test_tables_have_athena_lowercase_columns_in_ddl_order(pipeline_lake):
    columns, _ = query_engine.run_query(query_engine.connect(pipeline_lake),
                                 "select * from machine_learning_curated limit 1")
    assert columns == ["sensorreadingtime", "deviceid", "distancefromobject", "x", "y", "z"]


def test_trino_functions_and_qualified_names_are_translated(pipeline_lake, spark):
    expected = (spark.read.parquet(pipeline.table("customer_trusted").location(pipeline_lake))
                .where("email rlike '^A'").count())
    assert expected > 0
    assert scalar(pipeline_lake, "select count(*) from stedi.customer_trusted "
                                 "where regexp_like(email, '^A')") == expected


def test_a_table_without_files_is_empty_not_missing(tmp_path):
    (tmp_path / "customer" / "landing").mkdir(parents=True)
    assert scalar(tmp_path, "select count(*) from customer_trusted") == 0


def test_a_malformed_landing_line_is_a_row_of_nulls_as_in_athena(tmp_path):
    """The OpenX SerDe with ignore.malformed.json returns such a line with every column NULL."""
    folder = tmp_path / "accelerometer" / "landing"
    folder.mkdir(parents=True)
    (folder / "part.json").write_text('{"user": "a@x", "timestamp": 5, "x": 1, "y": 2, "z": 3}\n'
                                      '{"user": "b@x", "timest\n')
    columns, rows = query_engine.run_query(query_engine.connect(tmp_path),
                                    'select user, "timestamp", x from accelerometer_landing')
    assert columns == ["user", "timestamp", "x"]
    assert sorted(rows, key=repr) == [("a@x", 5, 1.0), (None, None, None)]


def test_a_broken_query_is_a_cli_error(pipeline_lake):
    with pytest.raises(CliError, match="query failed: .*no_such_column"):
        query_engine.run_query(query_engine.connect(pipeline_lake),
                               "select no_such_column from customer_trusted")


def test_render_formats(pipeline_lake):
    columns, rows = ["user", "n"], [("a@x", 3), ("b@x", None)]
    assert query.render(columns, rows, "csv") == "user,n\na@x,3\nb@x,"
    assert json.loads(query.render(columns, rows, "json")) == [{"user": "a@x", "n": 3},
                                                               {"user": "b@x", "n": None}]
    table = query.render(columns, rows, "table")
    assert "│ a@x  │    3 │" in table and "│ b@x  │ NULL │" in table and table.endswith("(2 rows)")


def run_module(module: str, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *arguments], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120)


def test_query_cli_prints_csv(pipeline_lake):
    result = run_module("scripts.query", "--lake", str(pipeline_lake), "--format", "csv",
                        "select count(*) as n from customer_curated")
    report = json.loads((pipeline_lake / "_reports" / "latest.json").read_text())
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"n\n{report['tables']['customer_curated']}\n"


@pytest.mark.parametrize("sql, message", [("selec 1", "cannot parse the query"),
                                          ("select 1; select 2", "give one SQL statement"),
                                          ("select * from nowhere", "query failed")])
def test_query_cli_errors_are_one_line_with_status_2(pipeline_lake, sql, message):
    result = run_module("scripts.query", "--lake", str(pipeline_lake), sql)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr


def test_checks_pass_on_a_pipeline_run(pipeline_lake):
    results = check.run_checks(pipeline_lake)
    assert len(results) == len(pipeline.TABLES) + 4
    assert [passed for _, _, passed in results] == [True] * len(results)


def test_checks_fail_when_the_lake_disagrees_with_the_report(pipeline_lake, tmp_path):
    lake = tmp_path / "lake"
    shutil.copytree(pipeline_lake, lake)
    report = json.loads((lake / "_reports" / "latest.json").read_text())
    report["tables"]["customer_curated"] += 1
    (lake / "_reports" / "latest.json").write_text(json.dumps(report))
    result = run_module("scripts.check", "--lake", str(lake))
    assert result.returncode == 1
    assert "FAIL  customer_curated rows match the run report" in result.stdout
    assert result.stdout.rstrip().endswith(f"{len(pipeline.TABLES) + 3} passed, 1 failed")


def test_a_landing_table_in_athena_counts_what_its_landing_job_accounted_for():
    report = {"tables": {"accelerometer_landing": 10, "accelerometer_trusted": 4}}
    accounting = {"accelerometer": {"accepted": 10, "quarantined": 2}}
    assert check.expected_count(report, accounting, pipeline.table("accelerometer_landing")) == 12
    assert check.expected_count(report, accounting, pipeline.table("accelerometer_trusted")) == 4
    assert check.expected_count(None, accounting, pipeline.table("accelerometer_trusted")) is None
    assert check.expected_count(report, {}, pipeline.table("customer_landing")) is None


def test_unnamed_result_columns_are_named_as_athena_names_them(pipeline_lake):
    columns, _ = query_engine.run_query(query_engine.connect(pipeline_lake),
                                 "select count(*), max(x) as top, user from accelerometer_trusted "
                                 "group by user")
    assert columns == ["_col0", "top", "user"]
    columns, rows = query_engine.run_query(query_engine.connect(pipeline_lake),
                                    "select count(*) from customer_trusted union all "
                                    "select count(*) from customer_curated")
    assert columns == ["_col0"] and len(rows) == 2


# --- Analyst queries as `make query` runs them, against answers computed in plain Python -------

NEW_YORK = ZoneInfo("America/New_York")
# The machine's own zone must not matter: Athena's session zone is UTC.
MACHINE_ZONE = "America/Los_Angeles"


@functools.cache
def raw_rows(lake: Path, table_name: str) -> tuple[dict, ...]:
    """The table's rows as its job wrote them, read straight from its Parquet files (nothing of
    scripts.query: no DDL, no view, no translation), with lowercase column names."""
    files = sorted(str(path) for path in Path(pipeline.table(table_name).location(lake))
                   .glob("*.parquet"))
    assert files, table_name
    with duckdb.connect() as connection:
        relation = connection.sql(f"select * from read_parquet({files!r})")
        names = [name.lower() for name in relation.columns]
        return tuple(dict(zip(names, row)) for row in relation.fetchall())


def seconds(milliseconds: int) -> datetime.datetime:
    """from_unixtime(ms / 1000) in Athena: bigint / bigint is an integer division."""
    return datetime.datetime.fromtimestamp(milliseconds // 1000, datetime.UTC)


def exact(milliseconds: int) -> datetime.datetime:
    """from_unixtime(ms / 1000.0) in Athena: the millisecond kept."""
    return (datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
            + datetime.timedelta(milliseconds=milliseconds))


def printed(moment: datetime.datetime) -> str:
    """A timestamp with time zone as Athena prints it: 2024-06-01 00:25:44.417 UTC."""
    zone = "UTC" if moment.tzinfo is datetime.UTC else moment.tzinfo.key
    return f"{moment:%Y-%m-%d %H:%M:%S}.{moment.microsecond // 1000:03d} {zone}"


def counted(keys) -> list[list[str]]:
    return [[key, str(n)] for key, n in sorted(Counter(keys).items())]


def printed_counts(moments) -> list[list[str]]:
    return [[printed(moment), str(n)] for moment, n in sorted(Counter(moments).items())]


def java_double_of_whole(number: int) -> str:
    """Java's Double.toString of a whole number of 8 or more digits: 1.717201544E9."""
    digits = str(number)
    assert len(digits) >= 8
    return f"{digits[0]}.{digits[1:].rstrip('0') or '0'}E{len(digits) - 1}"


def hourly_readings(lake):
    rows = raw_rows(lake, "accelerometer_trusted")
    return ("select date_trunc('hour', from_unixtime(timestamp/1000)) as hour, "
            "count(*) as readings from accelerometer_trusted group by 1 order by 1",
            ["hour", "readings"],
            printed_counts(seconds(r["timestamp"]).replace(minute=0, second=0) for r in rows))


def first_reading_per_user(lake):
    first = {}
    for r in raw_rows(lake, "accelerometer_trusted"):
        first[r["user"]] = min(first.get(r["user"], r["timestamp"]), r["timestamp"])
    return ("select user, from_unixtime(min(timestamp) / 1000.0) as first_reading, "
            "from_unixtime(min(timestamp) / 1000) as first_second from accelerometer_trusted "
            "group by user order by user limit 5",
            ["user", "first_reading", "first_second"],
            [[user, printed(exact(ms)), printed(seconds(ms))]
             for user, ms in sorted(first.items())[:5]])


def readings_per_new_york_day(lake):
    rows = raw_rows(lake, "accelerometer_trusted")
    days = (seconds(r["timestamp"]).astimezone(NEW_YORK).replace(hour=0, minute=0, second=0)
            for r in rows)
    return ("select date_trunc('day', at_timezone(from_unixtime(timestamp/1000), "
            "'America/New_York')) as day, count(*) as readings from accelerometer_trusted "
            "group by 1 order by 1",
            ["day", "readings"], printed_counts(days))


def registrations_per_week(lake):
    rows = raw_rows(lake, "customer_trusted")
    mondays = ((seconds(r["registrationdate"])
                - datetime.timedelta(days=seconds(r["registrationdate"]).weekday()))
               .replace(hour=0, minute=0, second=0) for r in rows)
    return ("select date_trunc('week', from_unixtime(registrationdate/1000)) as week, "
            "count(*) as customers from customer_trusted group by 1 order by 1",
            ["week", "customers"], printed_counts(mondays))


def registrations_per_weekday(lake):
    rows = raw_rows(lake, "customer_trusted")
    return ("select day_of_week(from_unixtime(registrationdate/1000)) as weekday, "
            "count(*) as customers from customer_trusted group by 1 order by 1",
            ["weekday", "customers"],
            counted(str(seconds(r["registrationdate"]).isoweekday()) for r in rows))


def distinct_users(lake):
    rows = raw_rows(lake, "accelerometer_trusted")
    return ("select approx_distinct(user) as users, count(*) as readings "
            "from accelerometer_trusted",
            ["users", "readings"], [[str(len({r["user"] for r in rows})), str(len(rows))]])


def distance_percentiles(lake):
    values = sorted(r["distancefromobject"] for r in raw_rows(lake, "step_trainer_trusted"))

    def at(p: str) -> int:
        """The smallest value with at least a fraction p of the values at or below it, as
        docs/athena.md, "Local answers are Athena's" says (exact arithmetic)."""
        return values[max(0, math.ceil(len(values) * Fraction(p)) - 1)]

    return ("select approx_percentile(distancefromobject, 0.5) as median, "
            "approx_percentile(distancefromobject, array[0.1, 0.9]) as deciles "
            "from step_trainer_trusted",
            ["median", "deciles"], [[str(at("0.5")), f"[{at('0.1')}, {at('0.9')}]"]])


def days_and_hours_to_consent(lake):
    def whole(delta: datetime.timedelta, unit: datetime.timedelta) -> int:
        return int(delta / unit)  # whole units, towards zero

    rows = sorted(raw_rows(lake, "customer_trusted"), key=lambda r: r["email"])
    expected = []
    for r in rows:
        delta = seconds(r["sharewithresearchasofdate"]) - seconds(r["registrationdate"])
        expected.append([r["email"], str(whole(delta, datetime.timedelta(days=1))),
                         str(whole(delta, datetime.timedelta(hours=1)))])
    return ("select email, date_diff('day', from_unixtime(registrationdate/1000), "
            "from_unixtime(sharewithresearchasofdate/1000)) as days_to_consent, "
            "date_diff('hour', from_unixtime(registrationdate/1000), "
            "from_unixtime(sharewithresearchasofdate/1000)) as hours_to_consent "
            "from customer_trusted order by email",
            ["email", "days_to_consent", "hours_to_consent"], expected)


def registration_formatted(lake):
    rows = sorted(raw_rows(lake, "customer_trusted"),
                  key=lambda r: (r["registrationdate"], r["email"]))[:10]
    return ("select email, format_datetime(from_unixtime(registrationdate/1000), "
            "'yyyy-MM-dd HH:mm EEE') as registered, "
            "date_format(from_unixtime(registrationdate/1000), '%Y-%m-%d %H:%i:%s') as at "
            "from customer_trusted order by registrationdate, email limit 10",
            ["email", "registered", "at"],
            [[r["email"], f"{seconds(r['registrationdate']):%Y-%m-%d %H:%M %a}",
              f"{seconds(r['registrationdate']):%Y-%m-%d %H:%M:%S}"] for r in rows])


def readings_in_the_first_week(lake):
    registered = {r["email"]: seconds(r["registrationdate"])
                  for r in raw_rows(lake, "customer_trusted")}
    count = sum(1 for r in raw_rows(lake, "accelerometer_trusted") if r["user"] in registered
                and seconds(r["timestamp"]) < registered[r["user"]] + datetime.timedelta(days=7))
    return ("select count(*) as readings from accelerometer_trusted a join customer_trusted c "
            "on a.user = c.email where from_unixtime(a.timestamp/1000) < "
            "date_add('day', 7, from_unixtime(c.registrationdate/1000))",
            ["readings"], [[str(count)]])


def seconds_recorded(lake):
    spans = {}
    for r in raw_rows(lake, "accelerometer_trusted"):
        low, high = spans.get(r["user"], (r["timestamp"], r["timestamp"]))
        spans[r["user"]] = (min(low, r["timestamp"]), max(high, r["timestamp"]))
    return ("select user, to_unixtime(from_unixtime(max(timestamp)/1000)) as last_epoch, "
            "to_unixtime(from_unixtime(max(timestamp)/1000)) - "
            "to_unixtime(from_unixtime(min(timestamp)/1000)) as seconds_recorded "
            "from accelerometer_trusted group by user order by user limit 5",
            ["user", "last_epoch", "seconds_recorded"],
            [[user, java_double_of_whole(high // 1000), repr(float(high // 1000 - low // 1000))]
             for user, (low, high) in sorted(spans.items())[:5]])


def readings_in_the_last_ten_minutes(lake):
    stamps = [r["timestamp"] // 1000 for r in raw_rows(lake, "accelerometer_trusted")]
    return ("select count(*) as readings from accelerometer_trusted "
            "where from_unixtime(timestamp/1000) > (select max(from_unixtime(timestamp/1000)) "
            "from accelerometer_trusted) - interval '10' minute",
            ["readings"], [[str(sum(1 for s in stamps if s > max(stamps) - 600))]])


def days_since_the_last_registration(lake):
    last = max(seconds(r["registrationdate"]).date() for r in raw_rows(lake, "customer_trusted"))
    # current_date is the date in UTC, Athena's session zone; today as the query runs
    return ("select date_diff('day', max(date(from_unixtime(registrationdate/1000))), "
            "current_date) as days_since_last_registration from customer_trusted",
            ["days_since_last_registration"],
            [[str((datetime.datetime.now(datetime.UTC).date() - last).days)]])


def readings_after_a_new_york_time(lake):
    stamps = sorted(r["timestamp"] for r in raw_rows(lake, "accelerometer_trusted"))
    cutoff = seconds(stamps[len(stamps) // 2]).astimezone(NEW_YORK)
    after = [seconds(ms).astimezone(NEW_YORK) for ms in stamps if seconds(ms) >= cutoff]
    return ("select count(*) as readings, min(at_timezone(from_unixtime(timestamp/1000), "
            "'America/New_York')) as first from accelerometer_trusted "
            "where at_timezone(from_unixtime(timestamp/1000), 'America/New_York') >= "
            f"with_timezone(timestamp '{cutoff:%Y-%m-%d %H:%M:%S}', 'America/New_York')",
            ["readings", "first"], [[str(len(after)), printed(min(after))]])


def busiest_devices(lake):
    by_device = {}
    for r in raw_rows(lake, "machine_learning_curated"):
        count, first = by_device.get(r["deviceid"], (0, r["sensorreadingtime"]))
        by_device[r["deviceid"]] = (count + 1, min(first, r["sensorreadingtime"]))
    top = sorted(by_device.items(), key=lambda item: (-item[1][0], item[0]))[:3]
    return ("select deviceid, count(*) as readings, "
            "min(from_unixtime(sensorreadingtime/1000)) as first_reading "
            "from machine_learning_curated group by deviceid "
            "order by readings desc, deviceid limit 3",
            ["deviceid", "readings", "first_reading"],
            [[device, str(count), printed(seconds(first))] for device, (count, first) in top])


ANALYST_QUERIES = [hourly_readings, first_reading_per_user, readings_per_new_york_day,
                   registrations_per_week, registrations_per_weekday, distinct_users,
                   distance_percentiles, days_and_hours_to_consent, registration_formatted,
                   readings_in_the_first_week, seconds_recorded, readings_in_the_last_ten_minutes,
                   days_since_the_last_registration, readings_after_a_new_york_time,
                   busiest_devices]


def make_query(lake: Path, sql: str) -> tuple[list[str], list[list[str]]]:
    """`make query Q=...` (python -m scripts.query --lake LAKE "SQL") on a machine whose clock is
    not in UTC: the header and cells of the table it prints."""
    result = subprocess.run([sys.executable, "-m", "scripts.query", "--lake", str(lake), sql],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "TZ": MACHINE_ZONE})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()

    def cells(line: str) -> list[str]:
        return [cell.strip() for cell in line.strip("│").split("│")]

    rows = [cells(line) for line in lines[3:-2]]
    assert lines[-1] == f"({len(rows)} row{'s' if len(rows) != 1 else ''})"
    return cells(lines[1]), rows


@pytest.mark.parametrize("case", ANALYST_QUERIES, ids=lambda case: case.__name__)
def test_an_analyst_query_answers_what_athena_would(pipeline_lake, case):
    sql, header, expected = case(pipeline_lake)
    assert expected  # an answer with rows to compare
    assert make_query(pipeline_lake, sql) == (header, expected)


def test_the_measured_failures_print_as_athena_prints(pipeline_lake):
    """Issue 20: these ended with "Required module 'pytz' failed to import"."""
    rows = raw_rows(pipeline_lake, "accelerometer_trusted")
    header, [[value]] = make_query(pipeline_lake, "select from_unixtime(timestamp/1000) t "
                                                  "from accelerometer_trusted limit 1")
    assert header == ["t"]
    assert value in {printed(seconds(r["timestamp"])) for r in rows}
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.000 UTC", value)
    _, days = make_query(pipeline_lake, "select date_trunc('day', from_unixtime(timestamp/1000)) "
                                        "from accelerometer_trusted group by 1 order by 1")
    assert days == [[printed(day)] for day in sorted(
        {seconds(r["timestamp"]).replace(hour=0, minute=0, second=0) for r in rows})]


@pytest.mark.parametrize("sql, message", [
    ("select from_unixtime(timestamp/1000), at_timezone(from_unixtime(timestamp/1000), "
     "'America/New_York') from accelerometer_trusted", "must convert each UTC timestamp"),
    ("select at_timezone(from_unixtime(timestamp/1000), 'Europe/Berlin'), "
     "at_timezone(from_unixtime(timestamp/1000), 'Asia/Tokyo') from accelerometer_trusted",
     "one time zone besides UTC, not Asia/Tokyo, Europe/Berlin"),
    ("select count(*) from accelerometer_trusted where at_timezone(from_unixtime("
     "timestamp/1000), 'America/New_York') >= date '2024-06-01'", "Athena would read it in UTC"),
    ("select approx_percentile(x, 2, 0.5) from accelerometer_trusted", "no weight or accuracy"),
])
def test_what_would_differ_from_athena_is_refused_in_one_line(pipeline_lake, sql, message):
    result = run_module("scripts.query", "--lake", str(pipeline_lake), sql)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
