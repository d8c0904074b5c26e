"""The whole local pipeline: the course's counts, a differential test against DuckDB, re-runs,
the run report and the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from scripts.lake import athena_ddl, pipeline, query_engine
from scripts.local_glue.runner import run_pipeline
from scripts.reference import zones_duckdb
from scripts.sample_data.generator import generate
from tests.support import REPO_ROOT, UDACITY_DATA, copy_landing, needs_udacity_data, reference_rows

OPTION_COMBINATIONS = [(c, m) for c in pipeline.CONSENT_MODES for m in pipeline.ML_MATCHES]

# docs/design.md, "Expected row counts": the counts on the Udacity starter data, column by
# column.
UDACITY_LANDING = {"customer_landing": 956, "accelerometer_landing": 81273,
                   "step_trainer_landing": 28680}
UDACITY_EXPECTED = {
    ("registered", "device"): {"customer_trusted": 482, "accelerometer_trusted": 40981,
                               "customer_curated": 482, "step_trainer_trusted": 14460,
                               "machine_learning_curated": 40981},
    ("registered", "timestamp"): {"customer_trusted": 482, "accelerometer_trusted": 40981,
                                  "customer_curated": 482, "step_trainer_trusted": 14460,
                                  "machine_learning_curated": 43681},
    ("since_consent", "device"): {"customer_trusted": 482, "accelerometer_trusted": 32025,
                                  "customer_curated": 464, "step_trainer_trusted": 11297,
                                  "machine_learning_curated": 32025},
    ("since_consent", "timestamp"): {"customer_trusted": 482, "accelerometer_trusted": 32025,
                                     "customer_curated": 464, "step_trainer_trusted": 11297,
                                     "machine_learning_curated": 34253},
}




def output_rows(lake: Path) -> dict[str, list[tuple]]:
    """Every output table's rows, sorted, read back with DuckDB from the Parquet files."""
    with duckdb.connect() as connection:
        return {t.name: sorted(connection.sql(
                    f"select * from read_parquet('{t.location(lake)}/*.parquet')").fetchall(),
                    key=repr)
                for t in pipeline.output_tables()}


@pytest.fixture(scope="module")
def udacity_lake(tmp_path_factory):
    if not UDACITY_DATA.is_dir():
        pytest.skip(f"Udacity starter data not found at {UDACITY_DATA}")
    return copy_landing(UDACITY_DATA, tmp_path_factory.mktemp("udacity") / "lake")


@pytest.fixture(scope="module")
def generated_lake(tmp_path_factory):
    lake = tmp_path_factory.mktemp("generated") / "lake"
    generate(lake, scale=0.1, seed=7, files_per_source=3)
    return lake


@pytest.fixture(scope="module")
def option_runs(spark, generated_lake) -> dict[tuple[str, str], tuple[dict, dict]]:
    """(report, output rows) of one pipeline run on generated_lake per option combination, the
    default combination last, so that the lake then holds a default run. Several tests read
    these runs instead of each running the pipeline again."""
    default = (pipeline.DEFAULT_CONSENT_MODE, pipeline.DEFAULT_ML_MATCH)
    runs = {}
    for consent_mode, ml_match in sorted(OPTION_COMBINATIONS, key=lambda c: c == default):
        report = run_pipeline(generated_lake, pipeline.JOBS,
                              pipeline.job_options(consent_mode=consent_mode, ml_match=ml_match),
                              spark)
        runs[(consent_mode, ml_match)] = report, output_rows(generated_lake)
    return runs


@needs_udacity_data
@pytest.mark.every_glue_version
@pytest.mark.parametrize("consent_mode, ml_match", OPTION_COMBINATIONS)
def test_udacity_counts_match_the_design(spark, udacity_lake, consent_mode, ml_match):
    report = run_pipeline(udacity_lake, pipeline.JOBS,
                          pipeline.job_options(consent_mode=consent_mode, ml_match=ml_match), spark)
    expected = {**UDACITY_LANDING, **UDACITY_EXPECTED[(consent_mode, ml_match)]}
    assert report["tables"] == expected
    assert report["rejected"] == {"customer": 0, "accelerometer": 0, "step_trainer": 0}
    athena_style = query_engine.connect(udacity_lake)
    assert {name: query_engine.run_query(athena_style, f"select count(*) from {name}")[1][0][0]
            for name in expected} == expected


def withdraw_every_consent(lake: Path) -> None:
    """Rewrite the customer landing files with no research consent at all."""
    for path in (lake / pipeline.landing_table("customer").path).glob("*.json"):
        records = [json.loads(line) for line in path.read_text().splitlines() if line]
        path.write_text("".join(json.dumps({**r, "shareWithResearchAsOfDate": None}) + "\n"
                                for r in records))


@pytest.mark.every_glue_version
def test_zones_left_empty_are_tables_of_0_rows_with_their_columns(spark, tmp_path):
    """Nobody consents, so customer_trusted and every zone after it is empty. Glue's writer may
    write no file for an empty frame, and the local sink writes none: each job must still read
    its inputs with their columns, and every table must exist, with 0 rows."""
    lake = tmp_path / "lake"
    generate(lake, scale=0.02, seed=3, files_per_source=1)
    withdraw_every_consent(lake)
    report = run_pipeline(lake, pipeline.JOBS, pipeline.job_options(), spark)
    outputs = pipeline.output_tables()
    assert {t.name: report["tables"][t.name] for t in outputs} == {t.name: 0 for t in outputs}
    athena_style = query_engine.connect(lake)
    definitions = athena_ddl.table_definitions()
    for table in outputs:
        assert not list(Path(table.location(lake)).glob("*.parquet")), table.name
        columns = [(name.lower(), kind) for name, kind in definitions[table.name].columns]
        catalog = json.loads((lake / "_catalog" / "stedi" / f"{table.name}.json").read_text())
        assert [(c["Name"], c["Type"]) for c in catalog["StorageDescriptor"]["Columns"]] == columns
        names, rows = query_engine.run_query(athena_style, f"select * from {table.name}")
        assert (names, rows) == ([name for name, _ in columns], [])


@pytest.mark.every_glue_version
@pytest.mark.parametrize("consent_mode, ml_match", OPTION_COMBINATIONS)
def test_pipeline_equals_the_duckdb_reference_row_for_row(generated_lake, option_runs,
                                                           consent_mode, ml_match):
    _, actual = option_runs[(consent_mode, ml_match)]
    reference = zones_duckdb.compute_zones(generated_lake, consent_mode, ml_match)
    expected = reference_rows(reference)
    for name in expected:
        assert len(actual[name]) == len(expected[name]), name
        assert actual[name] == expected[name], name


def test_generated_data_exercises_every_option(option_runs):
    """Guards the differential test: on data where the options made no difference, it would
    prove less than it seems."""
    counts = {options: report["tables"] for options, (report, _) in option_runs.items()}
    registered, since_consent = counts[("registered", "device")], counts[("since_consent",
                                                                          "timestamp")]
    assert since_consent["accelerometer_trusted"] < registered["accelerometer_trusted"]
    assert since_consent["customer_curated"] < registered["customer_curated"]
    device = counts[("since_consent", "device")]
    assert device["machine_learning_curated"] < since_consent["machine_learning_curated"]


def test_rerunning_the_pipeline_leaves_identical_outputs(spark, generated_lake, option_runs):
    _, first = option_runs[(pipeline.DEFAULT_CONSENT_MODE, pipeline.DEFAULT_ML_MATCH)]
    run_pipeline(generated_lake, pipeline.JOBS, pipeline.job_options(), spark)
    assert output_rows(generated_lake) == first
    assert all(first.values()), "every output table should have rows"


def test_rerunning_one_job_leaves_its_output_identical(spark, generated_lake, option_runs):
    before = output_rows(generated_lake)  # a default run's (option_runs ran it last)
    assert before == option_runs[(pipeline.DEFAULT_CONSENT_MODE, pipeline.DEFAULT_ML_MATCH)][1]
    run_pipeline(generated_lake, (pipeline.job("accelerometer_landing_to_trusted"),),
                 pipeline.job_options(),
                 spark)
    assert output_rows(generated_lake) == before


def test_each_job_registers_its_table_in_the_local_catalog(generated_lake, option_runs):
    for table in pipeline.output_tables():
        entry = json.loads((generated_lake / "_catalog" / "stedi" / f"{table.name}.json")
                           .read_text())
        assert entry["Name"] == table.name
        assert entry["StorageDescriptor"]["Location"].rstrip("/") == table.location(
            generated_lake)


# --- the command line, as a user runs it (own process, own JVM) -------------------------------

def run_cli(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scripts.run_local", *arguments],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)


def test_cli_runs_the_pipeline_and_writes_the_report(tmp_path):
    lake = tmp_path / "lake"
    generate(lake, scale=0.02, seed=3, files_per_source=2)
    result = run_cli("--lake", str(lake), "--consent-mode", "since_consent",
                     "--report-json", str(tmp_path / "report.json"))
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report == json.loads((lake / "_reports" / "latest.json").read_text())
    assert report["options"] == {"consent_mode": "since_consent", "ml_match": "device"}
    assert list(report["tables"]) == [t.name for t in pipeline.TABLES]
    assert list(report["seconds"]) == [j.name for j in pipeline.JOBS]
    expected = zones_duckdb.zone_counts(lake, "since_consent", "device")
    assert report["tables"] == expected
    for name, count in report["tables"].items():
        assert f"│ {name} " in result.stdout and f"{count:,} │" in result.stdout
    # Then the gates, in the order the jobs evaluated them: each landing's before its table's.
    gates = [line.split("│")[1:4] for line in result.stdout.splitlines()
             if line.startswith("│ stedi.")]
    assert [context.strip() for context, _, _ in gates] == list(report["data_quality"]) == [
        context for job in pipeline.JOBS
        for context in ([f"stedi.{name}" for name in job.inputs
                         if pipeline.table(name).is_landing]
                        + [f"stedi.{job.output}.since_consent.device"])]
    assert [(int(passed), int(failed)) for _, passed, failed in gates] == [
        (len(rules), 0) for rules in report["data_quality"].values()]


@pytest.mark.parametrize("arguments, message", [
    (["--lake", "/nonexistent/lake"], "lake folder /nonexistent/lake does not exist"),
    (["--lake", ".", "--ml-match", "fuzzy"], "invalid choice: 'fuzzy'"),
    (["--lake", ".", "--jobs", "nope"], "unknown job nope"),
    (["--lake", "."], "missing input: accelerometer_landing"),
])
def test_cli_mistakes_end_with_one_line_and_status_2(arguments, message):
    result = run_cli(*arguments)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr


def test_a_failing_job_is_named_with_its_reason(tmp_path):
    lake = tmp_path / "lake"
    generate(lake, scale=0.02, seed=3, files_per_source=2)
    broken = lake / "customer" / "trusted"
    broken.mkdir(parents=True)
    (broken / "part-0.snappy.parquet").write_text("not parquet")
    result = run_cli("--lake", str(lake), "--jobs", "accelerometer_landing_to_trusted")
    assert result.returncode == 2
    assert result.stderr.startswith("error: job accelerometer_landing_to_trusted failed: ")
    assert result.stderr.count("\n") == 1, result.stderr
