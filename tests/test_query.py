"""Athena-style local queries over the lake, and the course's verification checks."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from scripts import check, pipeline, query
from scripts._cli.errors import CliError
from tests.support import REPO_ROOT


def scalar(lake, sql: str):
    _, [(value,)] = query.run_query(query.connect(lake), sql)
    return value


def test_every_table_counts_what_the_run_report_says(pipeline_lake):
    report = json.loads((pipeline_lake / "_reports" / "latest.json").read_text())
    connection = query.connect(pipeline_lake)
    counts = {t.name: query.run_query(connection, f"select count(*) from {t.name}")[1][0][0]
              for t in pipeline.TABLES}
    assert counts == report["tables"]
    assert report["rejected"] == {"customer": 0, "accelerometer": 0, "step_trainer": 0}


def test_tables_have_athena_lowercase_columns_in_ddl_order(pipeline_lake):
    columns, _ = query.run_query(query.connect(pipeline_lake),
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
    columns, rows = query.run_query(query.connect(tmp_path),
                                    'select user, "timestamp", x from accelerometer_landing')
    assert columns == ["user", "timestamp", "x"]
    assert sorted(rows, key=repr) == [("a@x", 5, 1.0), (None, None, None)]


def test_a_broken_query_is_a_cli_error(pipeline_lake):
    with pytest.raises(CliError, match="query failed: .*no_such_column"):
        query.run_query(query.connect(pipeline_lake), "select no_such_column from customer_trusted")


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
    columns, _ = query.run_query(query.connect(pipeline_lake),
                                 "select count(*), max(x) as top, user from accelerometer_trusted "
                                 "group by user")
    assert columns == ["_col0", "top", "user"]
