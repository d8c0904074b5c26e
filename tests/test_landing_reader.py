"""The landing reader of the Glue jobs: every record accepted or quarantined with its reason,
nothing silently dropped, truncated or nulled."""

from __future__ import annotations

from pathlib import Path

import pytest
from chispa import assert_df_equality

from tests.support import load_job_module

ACCELEROMETER_JOB = load_job_module("accelerometer_landing_to_trusted")
STEP_TRAINER_JOB = load_job_module("step_trainer_trusted")
SCHEMA = ACCELEROMETER_JOB.ACCELEROMETER_LANDING_SCHEMA
KEYS = ACCELEROMETER_JOB.ACCELEROMETER_LANDING_KEY_FIELDS

DIRTY_EXPORT = "\n".join([
    '{"user": "a@x", "timestamp": 1, "x": 1.0, "y": 0.0, "z": -1.0}',           # 1 clean
    '{"user": "a@x", "timestamp": 2, "x": 1, "y": 0, "z": 0}{"user": "a@x", "timestamp": 3, '
    '"x": 0, "y": 1, "z": 0}',                                                   # 2 back to back
    '{"user": "a@x", "timestamp": 4, "x": 0, "y": 0, "z": 1}, {"user": "b@x", "timestamp": 5, '
    '"x": 2, "y": 2, "z": 2},',                                                  # 3 with commas
    '',                                                                          # 4 blank
    '{"user": "b@x", "timeStamp": 6, "X": 1e3, "y": "2", "z": -0.5}\r',          # 5 case, CRLF
    '{"user": "b@x", "timeStamp": 7, "timestamp": 7, "x": 1, "y": 1, "z": 1}',   # 6 both names
    '{"user": "b@x", "timestamp": "yesterday", "x": "abc", "y": 1, "z": 1}',     # 7 wrong types
    '{"timestamp": 8, "x": 1, "y": 1, "z": 1}',                                  # 8 no user
    'this is not json',                                                          # 9 garbage
    "{'user': 'c@x', 'timestamp': 9}",                                           # 10 quotes
    '{"user": "c@x", "timestamp": 10, "x": 1, "y": 1, "z": 1} xyz',              # 11 trailing
    '{"user": "c@x", "timestamp": 11, "x": 1, "y"',                              # 12 cut off
])


def write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)


def quarantine_rows(quarantined) -> list[tuple]:
    return sorted((Path(r.source_file).name, r.line_number, r.object_index, r.reason, r.record)
                  for r in quarantined.collect())


@pytest.fixture
def dirty_landing(spark, tmp_path):
    write(tmp_path, "export-1.json", DIRTY_EXPORT)
    write(tmp_path, "export-2.json", "")  # an empty file is fine
    return ACCELEROMETER_JOB.read_landing(spark, str(tmp_path), SCHEMA, KEYS)


def test_every_good_record_is_accepted_with_case_insensitive_names(spark, dirty_landing):
    accepted, _ = dirty_landing
    expected = [("a@x", 1, 1.0, 0.0, -1.0), ("a@x", 2, 1.0, 0.0, 0.0), ("a@x", 3, 0.0, 1.0, 0.0),
                ("a@x", 4, 0.0, 0.0, 1.0), ("b@x", 5, 2.0, 2.0, 2.0), ("b@x", 6, 1000.0, 2.0, -0.5)]
    assert_df_equality(accepted, spark.createDataFrame(expected, SCHEMA), ignore_row_order=True,
                       ignore_nullable=True)


def test_every_bad_record_is_quarantined_with_file_line_and_reason(dirty_landing):
    _, quarantined = dirty_landing
    file = "export-1.json"
    assert quarantine_rows(quarantined) == sorted([
        (file, 6, 0, "duplicate field",
         '{"user": "b@x", "timeStamp": 7, "timestamp": 7, "x": 1, "y": 1, "z": 1}'),
        (file, 7, 0, "wrong type: timestamp, x",
         '{"user": "b@x", "timestamp": "yesterday", "x": "abc", "y": 1, "z": 1}'),
        (file, 8, 0, "missing key field: user", '{"timestamp": 8, "x": 1, "y": 1, "z": 1}'),
        (file, 9, 0, "malformed JSON", "this is not json"),
        (file, 10, 0, "malformed JSON", "{'user': 'c@x', 'timestamp': 9}"),
        (file, 11, 0, "truncated object",
         '{"user": "c@x", "timestamp": 10, "x": 1, "y": 1, "z": 1} xyz'),
        (file, 12, 0, "truncated object", '{"user": "c@x", "timestamp": 11, "x": 1, "y"'),
    ])


def test_records_in_equal_accepted_plus_quarantined(dirty_landing):
    accepted, quarantined = dirty_landing
    records_written = 13  # 12 lines, one blank, two lines with two objects each
    assert accepted.count() + quarantined.count() == records_written


def test_line_numbers_are_exact_across_the_blocks_of_a_large_file(spark, tmp_path):
    good = '{"sensorReadingTime": %d, "serialNumber": "s1", "distanceFromObject": 200}'
    lines = [good % n for n in range(3000)]
    bad_lines = {7: "oops", 1500: '{"sensorReadingTime": 1}', 2999: '{"serialNumber": "s1"'}
    for number, text in bad_lines.items():
        lines[number - 1] = text
    write(tmp_path, "big.json", "\n".join(lines) + "\n")
    spark.conf.set("spark.sql.files.maxPartitionBytes", "16k")  # many blocks for one file
    try:
        _, quarantined = STEP_TRAINER_JOB.read_landing(
            spark, str(tmp_path), STEP_TRAINER_JOB.STEP_TRAINER_LANDING_SCHEMA,
            STEP_TRAINER_JOB.STEP_TRAINER_LANDING_KEY_FIELDS)
        found = {r.line_number: r.record for r in quarantined.collect()}
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
    assert found == bad_lines


def test_an_integer_out_of_range_is_a_wrong_type(spark, tmp_path):
    write(tmp_path, "s.json",
          '{"sensorReadingTime": 1, "serialNumber": "s1", "distanceFromObject": 3000000000}\n'
          '{"sensorReadingTime": 1, "serialNumber": "s1", "distanceFromObject": 12.5}\n'
          '{"sensorReadingTime": "2", "serialNumber": "s1", "distanceFromObject": 30}\n')
    accepted, quarantined = STEP_TRAINER_JOB.read_landing(
        spark, str(tmp_path), STEP_TRAINER_JOB.STEP_TRAINER_LANDING_SCHEMA,
        STEP_TRAINER_JOB.STEP_TRAINER_LANDING_KEY_FIELDS)
    assert [r.reason for r in quarantined.orderBy("line_number").collect()] == [
        "wrong type: distanceFromObject", "wrong type: distanceFromObject"]
    assert [tuple(r) for r in accepted.collect()] == [(2, "s1", 30)]
