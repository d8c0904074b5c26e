"""A bad export never replaces a published table (docs/design.md, "Data-quality gates"): on the
Udacity data, a good run, then the export with a required field renamed, dropped or retyped in
every record of one source, or cut to a small part of itself: the run fails naming the failed
rules, and every published table (the zones and the quarantine) keeps exactly the rows it had.
The restored export runs green; a first run with no history and an export that only adds a
field pass."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from scripts._cli.errors import CliError
from scripts.lake import pipeline, query_engine
from scripts.local_glue.runner import REPO_ROOT, run_pipeline
from tests.support import UDACITY_DATA, copy_landing, needs_udacity_data
from tests.test_pipeline import output_rows
from tests.test_query import make_query

# The same rulesets on every Glue version: each version has its own Spark and awsgluedq.
pytestmark = [needs_udacity_data, pytest.mark.every_glue_version]


def published(lake: Path) -> dict[str, list]:
    """What consumers read: every zone's rows and every quarantine's records."""
    quarantined = {source: sorted(line for path in (lake / source / "quarantine").glob("*.json")
                                  for line in path.read_text().splitlines())
                   for source in pipeline.SOURCES if (lake / source / "quarantine").is_dir()}
    return {**output_rows(lake), **{f"{s}_quarantine": rows for s, rows in quarantined.items()}}


def documented_queries() -> list[str]:
    """The SQL of each `make query Q="..."` line of docs/athena.md, "Why did a run stop? The
    data-quality results": the failed rules, then a table's row counts."""
    athena = (REPO_ROOT / "docs" / "athena.md").read_text()
    section = athena.split("## Why did a run stop?")[1].split("\n## ")[0]
    return re.findall(r'^make query Q="(.+)"$', section, re.MULTILINE)


def gate_results(lake: Path) -> list[tuple]:
    """(job_run_id, evaluation_context, rule, outcome) of every row of data_quality_results."""
    _, rows = query_engine.run_query(query_engine.connect(lake), "select job_run_id, "
                                     "evaluation_context, rule, outcome from data_quality_results")
    return rows


def edit_lines(lake: Path, source: str, edit: Callable[[list[str]], list[str]]) -> None:
    for path in sorted((lake / source / "landing").glob("*.json")):
        path.write_text("".join(line + "\n" for line in edit(path.read_text().splitlines())))


def rename(field: str, to: str) -> Callable[[list[str]], list[str]]:
    return lambda lines: [line.replace(f'"{field}"', f'"{to}"') for line in lines]


def drop(field: str) -> Callable[[list[str]], list[str]]:
    def without(line: str) -> str:
        record = json.loads(line)
        record.pop(field, None)
        return json.dumps(record)
    return lambda lines: [without(line) for line in lines if line.strip()]


def retype(field: str) -> Callable[[list[str]], list[str]]:
    return lambda lines: [re.sub(rf'"{field}":\s*[-0-9.eE]+', f'"{field}": "n/a"', line)
                          for line in lines]


def without_a_value(field: str,
                    matching: Callable[[dict], bool]) -> Callable[[list[str]], list[str]]:
    """The first record of the source that ``matching`` accepts loses ``field`` (a reading
    without its measured value); the others stay as they are."""
    done = []

    def edit(lines: list[str]) -> list[str]:
        for index, line in enumerate(lines):
            record = json.loads(line) if line.strip() and not done else None
            if record is not None and matching(record):
                record.pop(field)
                lines[index] = json.dumps(record)
                done.append(index)
        return lines
    return edit


@contextmanager
def put_back_afterwards(lake: Path, scratch: Path) -> Iterator[Path]:
    """Keep a copy of the whole lake (zones, quarantine, gate history) in ``scratch`` and put
    it back when the block ends, so that the module's lake is as the next test expects it."""
    saved = scratch / "lake"
    shutil.copytree(lake, saved)
    try:
        yield saved
    finally:
        shutil.rmtree(lake)
        shutil.copytree(saved, lake)


def keep_a_tenth(lines: list[str]) -> list[str]:
    return lines[: max(1, len(lines) // 10)]


@pytest.fixture(scope="module")
def lake(spark, tmp_path_factory):
    """The Udacity export after a first run, with no history: it passes."""
    lake = copy_landing(UDACITY_DATA, tmp_path_factory.mktemp("gates") / "lake")
    run_pipeline(lake, pipeline.JOBS, pipeline.job_options(), spark)
    return lake


@pytest.mark.parametrize(("source", "edit", "failed_rule"), [
    ("accelerometer", rename("timestamp", "ts"), 'Completeness "accepted_record" >= 0.5'),
    ("customer", rename("shareWithResearchAsOfDate", "shareWithResearchDate"),
     'Completeness "shareWithResearchAsOfDate" >= avg(last(3)) * 0.5'),
    ("step_trainer", drop("distanceFromObject"),
     'Completeness "distanceFromObject" >= avg(last(3)) * 0.5'),
    ("accelerometer", retype("x"), 'Completeness "accepted_record" >= 0.5'),
    ("customer", keep_a_tenth, "RowCount >= avg(last(3)) * 0.5"),
], ids=["renamed key field", "renamed consent", "dropped field", "retyped field", "cut short"])
def test_a_bad_export_fails_its_gate_and_every_published_table_keeps_its_rows(
        spark, lake, tmp_path, source, edit, failed_rule):
    before = published(lake)
    saved = tmp_path / "landing"
    shutil.copytree(lake / source / "landing", saved)
    edit_lines(lake, source, edit)
    try:
        with pytest.raises(CliError) as failure:
            run_pipeline(lake, pipeline.JOBS, pipeline.job_options(), spark)
        message = str(failure.value)
        assert f"job {pipeline.landing_job(source).name} failed: data-quality gate " in message
        assert f"{failed_rule} (measured " in message
        assert "nothing was published" in message
        assert published(lake) == before
        # What the documentation says to type to see why: the latest evaluation is the failed
        # gate's, with the rule and its measured value.
        header, rows = make_query(lake, documented_queries()[0])
        assert header == ["evaluated_at", "job_name", "rule", "failure_reason"]
        latest = {row[2]: row for row in rows if row[0] == rows[0][0]}
        assert {row[1] for row in latest.values()} == {pipeline.landing_job(source).name}
        assert latest[failed_rule][3].startswith("Value: ")
        assert f"{failed_rule} (measured {latest[failed_rule][3].split()[1]})" in message
    finally:
        shutil.rmtree(lake / source / "landing")
        shutil.copytree(saved, lake / source / "landing")
    report = run_pipeline(lake, pipeline.JOBS, pipeline.job_options(), spark)  # restored: green
    assert published(lake) == before
    assert "dq_override" not in report["options"]


def test_an_export_that_only_adds_a_field_passes(spark, lake, tmp_path):
    before = published(lake)
    earlier_runs = {row[0] for row in gate_results(lake)}
    saved = tmp_path / "landing"
    shutil.copytree(lake / "customer" / "landing", saved)
    edit_lines(lake, "customer", lambda lines: [line.replace("{", '{"loyaltyTier": "gold", ', 1)
                                                for line in lines])
    try:
        report = run_pipeline(lake, pipeline.JOBS, pipeline.job_options(), spark)
        assert published(lake) == before
        # The run report holds every gate this run evaluated, each rule's result in it.
        assert sorted(report["data_quality"]) == sorted(
            [f"stedi.{table.name}" for table in pipeline.landing_tables()]
            + [f"stedi.{table.name}.registered.device" for table in pipeline.output_tables()])
        results = [r for rules in report["data_quality"].values() for r in rules]
        assert {r["Outcome"] for r in results} == {"Passed"}
        assert 'Completeness "shareWithResearchAsOfDate" >= avg(last(3)) * 0.5' in {
            r["Rule"] for r in report["data_quality"]["stedi.customer_landing"]}
        # data_quality_results gained exactly the rules the report holds, each job run's own.
        added = [row for row in gate_results(lake) if row[0] not in earlier_runs]
        assert sorted(row[1:] for row in added) == sorted(
            (context, r["Rule"], r["Outcome"])
            for context, rules in report["data_quality"].items() for r in rules)
        assert len({row[0] for row in added}) == len(pipeline.JOBS)
        header, counts = make_query(lake, documented_queries()[1])
        assert header == ["evaluated_at", "row_count"]
        assert counts[-1][1] == f"{report['tables']['customer_trusted']}.0"
        assert [row[0] for row in counts] == sorted(row[0] for row in counts)
    finally:
        shutil.rmtree(lake / "customer" / "landing")
        shutil.copytree(saved, lake / "customer" / "landing")


def test_an_override_publishes_what_fails_and_the_report_says_so(spark, lake, tmp_path):
    with put_back_afterwards(lake, tmp_path) as saved:
        edit_lines(lake, "customer", keep_a_tenth)
        report = run_pipeline(lake, pipeline.JOBS, pipeline.job_options(dq_override=True), spark)
        assert report["options"]["dq_override"] is True
        assert report["tables"]["customer_landing"] < 100
        # Published: the table holds the cut export's customers (the counts are the files').
        assert report["tables"]["customer_trusted"] < len(output_rows(saved)["customer_trusted"])


def test_readings_that_lack_a_measured_value_pass_and_are_published(spark, lake, tmp_path):
    """A reading without its x, a step without its distance: accepted (docs/zones.md), so the
    zones hold them with a null, and a distinct-readings table must not fail its key rule on
    the null (IsPrimaryKey would ask every column to be complete)."""
    before = output_rows(lake)
    trusted_serials = {row[1] for row in before["step_trainer_trusted"]}
    with put_back_afterwards(lake, tmp_path):
        edit_lines(lake, "accelerometer", without_a_value("x", lambda record: True))
        edit_lines(lake, "step_trainer", without_a_value(
            "distanceFromObject", lambda record: record["serialNumber"] in trusted_serials))
        report = run_pipeline(lake, pipeline.JOBS, pipeline.job_options(), spark)
        after = output_rows(lake)
        assert report["tables"]["accelerometer_trusted"] == len(before["accelerometer_trusted"])
        assert report["tables"]["step_trainer_trusted"] == len(before["step_trainer_trusted"])
        assert [sum(row[2] is None for row in after[name])
                for name in ("accelerometer_trusted", "step_trainer_trusted")] == [1, 1]
        assert {r["Outcome"] for rules in report["data_quality"].values() for r in rules} == {
            "Passed"}
