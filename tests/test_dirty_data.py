"""The pipeline on dirty exports: the Spark landing reader against the independent Python
reference (scripts/reference/landing_python.py), record for record, and the zones against DuckDB."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scripts.lake import pipeline
from scripts.local_glue.runner import load_job_module, run_pipeline
from scripts.reference import landing_python, zones_duckdb
from scripts.sample_data.generator import generate
from tests.support import reference_rows
from tests.test_pipeline import output_rows

pytestmark = pytest.mark.every_glue_version


@pytest.fixture(scope="module")
def dirty_lake(tmp_path_factory):
    lake = tmp_path_factory.mktemp("dirty") / "lake"
    generate(lake, scale=0.1, seed=13, files_per_source=3, dirty=True)
    return lake


def spark_landing(spark, lake: Path, source: str):
    return load_job_module(pipeline.landing_job(source)).extract_landing(spark, str(lake))


@pytest.mark.parametrize("source", pipeline.SOURCES)
def test_spark_accepts_exactly_the_records_the_reference_accepts(spark, dirty_lake, source):
    accepted, _ = spark_landing(spark, dirty_lake, source)
    expected = landing_python.accepted_rows(dirty_lake)[source]
    assert Counter(tuple(row) for row in accepted.collect()) == Counter(expected)


@pytest.mark.parametrize("source", pipeline.SOURCES)
def test_spark_quarantines_the_same_records_with_the_same_reasons(spark, dirty_lake, source):
    _, quarantined = spark_landing(spark, dirty_lake, source)
    actual = sorted((Path(r.source_file).name, r.line_number, r.object_index, r.reason, r.record)
                    for r in quarantined.collect())
    expected = sorted((Path(r.source_file).name, r.line_number, r.object_index, r.reason, r.text)
                      for r in landing_python.read_source(dirty_lake, source) if r.reason)
    assert actual == expected
    assert {reason.split(":")[0] for *_, reason, _ in actual} >= {
        "malformed JSON", "truncated object", "wrong type", "missing key field"}


# Two option pairs that between them change every option; the default pair last, so that the
# lake then holds a default run.
DIRTY_RUN_OPTIONS = [("since_consent", "timestamp"),
                     (pipeline.DEFAULT_CONSENT_MODE, pipeline.DEFAULT_ML_MATCH)]


@pytest.fixture(scope="module")
def dirty_runs(spark, dirty_lake) -> dict[tuple[str, str], tuple[dict, dict]]:
    """(report, output rows) of one run on dirty_lake per option pair of DIRTY_RUN_OPTIONS."""
    runs = {}
    for consent_mode, ml_match in DIRTY_RUN_OPTIONS:
        report = run_pipeline(dirty_lake, pipeline.JOBS, pipeline.job_options(
            consent_mode=consent_mode, ml_match=ml_match), spark)
        runs[(consent_mode, ml_match)] = report, output_rows(dirty_lake)
    return runs


@pytest.mark.parametrize("consent_mode, ml_match", DIRTY_RUN_OPTIONS)
def test_pipeline_on_dirty_data_equals_the_reference(dirty_lake, dirty_runs, consent_mode,
                                                     ml_match):
    report, outputs = dirty_runs[(consent_mode, ml_match)]
    summaries = landing_python.summarize_lake(dirty_lake)
    assert report["rejected"] == {s: summaries[s]["quarantined"] for s in pipeline.SOURCES}
    records_in = {s: len(landing_python.read_source(dirty_lake, s)) for s in pipeline.SOURCES}
    assert {s: report["tables"][f"{s}_landing"] + report["rejected"][s]
            for s in pipeline.SOURCES} == records_in
    reference = zones_duckdb.compute_zones(
        dirty_lake, consent_mode, ml_match,
        accepted_rows=landing_python.accepted_rows(dirty_lake))
    assert outputs == reference_rows(reference)


def test_quarantine_files_hold_text_file_line_and_reason(dirty_lake, dirty_runs):
    lines = [json.loads(line) for path in (dirty_lake / "accelerometer" / "quarantine")
             .glob("*.json") for line in path.read_text().splitlines()]
    assert lines and all(set(record) == {"record", "source_file", "line_number", "object_index",
                                         "reason"} for record in lines)


def test_thirty_serial_numbers_shared_by_a_thousand_customers_multiply_nothing(spark, tmp_path):
    lake = tmp_path / "lake"
    generate(lake, scale=1, seed=17, dirty=True)
    report = run_pipeline(lake, pipeline.JOBS, pipeline.job_options(), spark)
    assert report["warnings"] == {"shared_serial_numbers": 30}
    outputs = output_rows(lake)
    assert len(outputs["step_trainer_trusted"]) == len(set(outputs["step_trainer_trusted"]))
    reference = zones_duckdb.compute_zones(
        lake, accepted_rows=landing_python.accepted_rows(lake))
    assert {name: len(rows) for name, rows in outputs.items()} == {
        t.name: reference.sql(f"select count(*) from {t.name}").fetchone()[0]
        for t in pipeline.output_tables()}


# --- property: whatever the lines, nothing is lost and nothing bad gets through ------------------

USERS = ("a@x", "b@x", "c@x")
reading = st.fixed_dictionaries({
    "user": st.sampled_from(USERS), "timestamp": st.integers(0, 10 ** 13),
    "x": st.floats(-2, 2, allow_nan=False).map(lambda v: round(v, 3)),
    "y": st.integers(-2, 2), "z": st.integers(-2, 2)})


def as_json(record: dict, rename: dict[str, str] | None = None) -> str:
    return json.dumps({(rename or {}).get(k, k): v for k, v in record.items()})


line_kinds = st.one_of(
    reading.map(lambda r: ([r], as_json(r))),
    st.tuples(reading, reading).map(lambda p: (list(p), as_json(p[0]) + as_json(p[1]))),
    st.tuples(reading, reading).map(lambda p: (list(p), as_json(p[0]) + ", " + as_json(p[1]))),
    reading.map(lambda r: ([r], as_json(r) + ",")),
    reading.map(lambda r: ([r], as_json(r, {"timestamp": "TimeStamp", "user": "USER"}))),
    st.just(([], "")),
    reading.map(lambda r: ([None], as_json(r)[:-3])),                      # cut off
    reading.map(lambda r: ([None], as_json({**r, "timestamp": "soon"}))),  # wrong type
    reading.map(lambda r: ([None], as_json({k: v for k, v in r.items() if k != "user"}))),
    st.text(alphabet="ab{}:,\" 1", max_size=12).map(lambda t: ([None] if t.strip(" ,") else [],
                                                               t)),
)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(lines=st.lists(line_kinds, min_size=1, max_size=12))
def test_records_in_equal_accepted_plus_quarantined_and_zones_hold_only_accepted(
        spark, tmp_path_factory, lines):
    lake = tmp_path_factory.mktemp("property")
    folder = lake / pipeline.landing_table("accelerometer").path
    folder.mkdir(parents=True)
    (folder / "part.json").write_text("\n".join(text for _, text in lines))
    job = load_job_module(pipeline.job("accelerometer_landing_to_trusted"))
    accepted, quarantined = job.extract_landing(spark, str(lake))
    accepted_rows = Counter(tuple(row) for row in accepted.collect())
    reasons = Counter(row.reason for row in quarantined.collect())

    records = landing_python.read_source(lake, "accelerometer")
    assert sum(accepted_rows.values()) + sum(reasons.values()) == len(records)
    assert accepted_rows == Counter(r.values for r in records if r.reason is None)
    assert reasons == Counter(r.reason for r in records if r.reason)
    written_good = Counter((r["user"], r["timestamp"], float(r["x"]), float(r["y"]),
                            float(r["z"])) for kept, _ in lines for r in kept if r)
    assert written_good <= accepted_rows  # no good record lost, whatever stands beside it

    customers = spark.createDataFrame([(user, 0) for user in USERS],
                                      "email string, shareWithResearchAsOfDate bigint")
    trusted = {tuple(row) for row in job.transform(accepted, customers).collect()}
    assert trusted <= set(accepted_rows)  # a quarantined record never reaches a zone
