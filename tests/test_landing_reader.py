"""The landing reader of the Glue jobs: every record accepted or quarantined with its reason,
nothing silently dropped, truncated or nulled."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from chispa import assert_df_equality

from glue_jobs.shared import landing_reader
from scripts.reference import landing_python
from tests.support import load_job_module

pytestmark = pytest.mark.every_glue_version

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
    return landing_reader.read_landing(spark, str(tmp_path), SCHEMA, KEYS)


def test_the_reader_refuses_a_session_without_its_settings(spark, tmp_path):
    write(tmp_path, "a.json", DIRTY_EXPORT)
    spark.conf.set("spark.sql.mapKeyDedupPolicy", "EXCEPTION")
    try:
        with pytest.raises(landing_reader.SessionSettingsError,
                           match="spark.sql.mapKeyDedupPolicy=LAST_WIN"):
            landing_reader.read_landing(spark, str(tmp_path), SCHEMA, KEYS)
    finally:
        landing_reader.set_session_settings(spark)


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
        _, quarantined = landing_reader.read_landing(
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
    accepted, quarantined = landing_reader.read_landing(
        spark, str(tmp_path), STEP_TRAINER_JOB.STEP_TRAINER_LANDING_SCHEMA,
        STEP_TRAINER_JOB.STEP_TRAINER_LANDING_KEY_FIELDS)
    assert [r.reason for r in quarantined.orderBy("line_number").collect()] == [
        "wrong type: distanceFromObject", "wrong type: distanceFromObject"]
    assert [tuple(r) for r in accepted.collect()] == [(2, "s1", 30)]


READING = '"x": 0.0, "y": 1.0, "z": -1.0'
# Lines at the edges of the reader's shortcuts (a whole object, names spelled as in the schema,
# numbers as JSON prints them): each must get the verdict of the full rules.
SHORTCUT_EDGES = [
    '{"user":"a@x","timestamp":1,"x":0.0,"y":1.0,"z":-1.0}',                  # the common case
    '{"user": "a@x", "timestamp": 2, "timestamp": 3, %s}' % READING,          # repeated name
    '{"user": "a@x", "timestamp": "soon", "timestamp": 4, %s}' % READING,     # repeat mends
    '{"user": "a@x", "TIMESTAMP": 5, %s}' % READING,                          # other spelling
    '{"user": "a@x", "timestamp": 6, "Timestamp": 6, %s}' % READING,          # both spellings
    '{"user": "a@x", "timestamp": 7, %s, "extra": {"deep": [1, "}"]}}' % READING,
    '{"\\u0075ser": "a@x", "timestamp": 8, %s}' % READING,                    # escaped name
    '{"\\u0055ser": "a@x", "timestamp": 9, %s}' % READING,                    # escaped, upper
    '{"user": "a@x", "timestamp": 10, "x": "NaN", "y": 0, "z": 0}',
    '{"user": "a@x", "timestamp": 11, "x": NaN, "y": 0, "z": 0}',
    '{"user": "a@x", "timestamp": 12, "x": "Infinity", "y": 1e999, "z": -1e999}',
    '{"user": "a@x", "timestamp": 13, "x": "1.50", "y": "+1", "z": ".5"}',
    '{"user": "a@x", "timestamp": "007", "x": "5.", "y": "1e3", "z": -0.0}',
    '{"user": "a@x", "timestamp": 14.0, %s}' % READING,
    '{"user": "a@x", "timestamp": "-0", "x": 1, "y": 123456789012345678901234567890, "z": 1e-7}',
    '{"user": "a@x", "timestamp": 9223372036854775808, %s}' % READING,
    '{"user": "a@x", "timestamp": " 15", "x": " 1.0", "y": 0, "z": 0}',
    '{"user": "a}b@x", "timestamp": 16, %s}' % READING,                       # '}' in a value
    '{"user": "a}{b@x", "timestamp": 17, %s}' % READING,                      # '}{' in a value
    '{"user": "a@x", "timestamp": 18, %s}}' % READING,                        # one '}' too many
    '{}',
    '{"user": null, "timestamp": 19, %s}' % READING,
    '{"user": 123, "timestamp": 20, "x": true, "y": [1], "z": {"a": 1}}',
    '{"user": "zoë@x", "timestamp": 21, %s}' % READING,                       # multibyte
    '  {"user": "a@x", "timestamp": 22, %s}  ' % READING,                     # spaces around
    '{"user": "a@x", "timestamp": 23, %s},' % READING,                        # trailing comma
    '{"user": "a@x", "timestamp": 24, %s}' % READING.replace(": ", ":\t"),    # tabs
]
# Lines at the edges of the fast path (a typed parse, every parsed field non-null and finite,
# no more ':' than fields parsed): each must get the verdict of the full rules too.
FAST_PATH_EDGES = [
    '{"user": "a\\":b@x", "timestamp": 25, %s}' % READING,                   # '":' in a value
    '{"user": "a:b@x", "timestamp": 26, %s}' % READING,                       # ':' in a value
    '{"user" : "a@x", "timestamp" : 27, %s}' % READING,                       # ' :' after names
    '{"user": "a@x", "timestamp" : 28, "Timestamp":28, %s}' % READING,        # ... and a twin
    '{"user": "a@x", "USER": "a@x", "timestamp": 29, %s}' % READING,          # case twin
    '{"User": "a@x", "timestamp": 30, %s}' % READING,                         # only other case
    '{"user": "a@x", "timestamp": 31, "x": 1e999, "y": 0, "z": 0}',
    '{"user": "a@x", "timestamp": 32, "x": NaN, "y": 0, "z": 0}',
    '{"user": "a@x", "timestamp": -0, "x": -0, "y": -0.0, "z": 0}',           # minus zero
    '{"user": "a@x", "timestamp": "33", "x": "1.5", "y": "2", "z": "-0"}',    # numbers as text
    '{"user": "a@x", "timestamp": 34, "x": " 1.5", "y": "1.5 ", "z": "0x1"}',
    '{"user": "a@x", "timestamp": 35, %s, "extra": 1}' % READING,             # unknown field
    '{"user": "a@x", "timestamp": 36, %s, "extra": "x:y"}' % READING,
    '{"user": {"name": "a"}, "timestamp": 37, %s}' % READING,                 # nested object
    '{"user": ["a@x"], "timestamp": 38, %s}' % READING,                       # array
    '{"user": "a@x", "timestamp": 39, "x": [1], "y": 0, "z": 0}',
    '{"\\u0075s\\u0065r": "a@x", "timestamp": 40, %s}' % READING,           # escaped names
    '{"user": "a@x", "t\\u0069mestamp": 41, "timestamp": 41, %s}' % READING,  # escaped twin
    '   ',                                                                    # whitespace only
    '{"user": "a@x", "timestamp": 42, %s} ,' % READING,                       # whole, then ','
    '{"user": "a@x", "timestamp": 43, "x": 1, "y": 2, "z": 3, "w": null}',    # unknown null
    '{"user": "a@x", "timestamp": 44, "x": null, "y": 2, "z": 3}',            # null value
    '{"user": "a@x", "timestamp": 45, "y": 2, "z": 3}',                       # absent field
    '{"user": "a@x", "timestamp": 46, "x": 1.0E2, "y": 1e-400, "z": 123456789.123456789}',
    '{"user": "a@x", "timestamp": 47, "x": true, "y": 0, "z": 0}',
]


def exact(values: tuple) -> tuple:
    """Values compared exactly: repr tells -0.0 from 0.0, which == does not."""
    return tuple(repr(value) for value in values)


@pytest.mark.parametrize("edges", [SHORTCUT_EDGES, FAST_PATH_EDGES], ids=["shortcuts", "fast"])
def test_edge_lines_get_the_verdict_of_the_full_rules(spark, tmp_path, edges):
    lake = tmp_path / "lake"
    write(lake / "accelerometer" / "landing", "edges.json", "\n".join(edges) + "\n")
    accepted, quarantined = ACCELEROMETER_JOB.extract_landing(spark, str(lake))
    expected = landing_python.read_source(lake, "accelerometer")
    assert sorted((r.line_number, r.object_index, r.reason) for r in quarantined.collect()) == \
        sorted((r.line_number, r.object_index, r.reason) for r in expected if r.reason)
    assert Counter(exact(tuple(row)) for row in accepted.collect()) == \
        Counter(exact(r.values) for r in expected if r.reason is None)
    # '}{' inside a value splits its line; a whitespace-only line is a blank line, no record
    assert len(expected) == len(edges) + (1 if edges is SHORTCUT_EDGES else -1)
