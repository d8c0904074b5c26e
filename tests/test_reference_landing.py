"""Tests of the pure-Python landing reader: one acceptance rule per test, on tiny real files, with
the exact records expected (file, line, place on the line, reason, typed values)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.reference.landing_python import (
    KEY_FIELDS,
    LANDING_SCHEMAS,
    Record,
    accepted_rows,
    read_source,
    summarize,
)

REPO = Path(__file__).resolve().parents[1]
ANA = "ana@example.com"
WRONG = "wrong type"


def reading(timestamp: int, user: str = ANA, x: float = 0.0) -> str:
    """An accelerometer landing object as JSON text."""
    return json.dumps({"user": user, "timestamp": timestamp, "x": x, "y": 0.0, "z": 0.0})


def row(timestamp: int, user: str = ANA, x: float = 0.0) -> tuple:
    """The accepted values of ``reading(timestamp, user, x)``."""
    return (user, timestamp, x, 0.0, 0.0)


def read(lake: Path, files: dict[str, str | bytes], source: str = "accelerometer") -> list[Record]:
    """Write ``files`` (name -> exact content) into the source's landing folder and read it."""
    folder = lake / source / "landing"
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return read_source(lake, source)


def outcomes(records: list[Record]) -> list[tuple]:
    """(line, place on the line, reason, values) per record, the file left out."""
    return [(r.line_number, r.object_index, r.reason, r.values) for r in records]


def only_outcome(lake: Path, text: str, source: str = "accelerometer") -> tuple:
    """(reason, values) of a file holding the single line ``text``."""
    (record,) = read(lake, {"one.json": text + "\n"}, source)
    return record.reason, record.values


def test_schemas_and_key_fields_follow_design() -> None:
    assert {source: list(schema) for source, schema in LANDING_SCHEMAS.items()} == {
        "customer": ["customerName", "email", "phone", "birthDay", "serialNumber",
                     "registrationDate", "lastUpdateDate", "shareWithResearchAsOfDate",
                     "shareWithPublicAsOfDate", "shareWithFriendsAsOfDate"],
        "accelerometer": ["user", "timestamp", "x", "y", "z"],
        "step_trainer": ["sensorReadingTime", "serialNumber", "distanceFromObject"]}
    assert KEY_FIELDS == {"customer": ("email",), "accelerometer": ("user", "timestamp"),
                          "step_trainer": ("sensorReadingTime", "serialNumber")}


def test_accepted_record_has_typed_values_in_schema_order(tmp_path: Path) -> None:
    (record,) = read(tmp_path, {"a.json": '{"z": -1, "y": 0, "x": 1.5, "timestamp": 5, '
                                          f'"user": "{ANA}", "extra": [1]}}\n'})
    assert record == Record("a.json", 1, 0,
                            f'{{"z": -1, "y": 0, "x": 1.5, "timestamp": 5, "user": "{ANA}", '
                            '"extra": [1]}', None, (ANA, 5, 1.5, 0.0, -1.0))
    assert [type(value) for value in record.values] == [str, int, float, float, float]


def test_objects_back_to_back_are_records_of_one_line(tmp_path: Path) -> None:
    lines = [reading(1) + reading(2), f"{reading(3)},{reading(4)} , {reading(5)}"]
    records = read(tmp_path, {"a.json": "\n".join(lines) + "\n"})
    assert outcomes(records) == [(1, 0, None, row(1)), (1, 1, None, row(2)),
                                 (2, 0, None, row(3)), (2, 1, None, row(4)),
                                 (2, 2, None, row(5))]
    assert [r.text for r in records[2:]] == [reading(3), reading(4), reading(5)]


def test_one_trailing_comma_is_removed(tmp_path: Path) -> None:
    lines = [reading(1) + ",", reading(2) + " ,  ", reading(3) + reading(4) + ",",
             reading(5) + ",,"]
    records = read(tmp_path, {"a.json": "\n".join(lines) + "\n"})
    # Only one comma goes: the last line keeps one, so its object does not end in "}".
    assert outcomes(records) == [(1, 0, None, row(1)), (2, 0, None, row(2)),
                                 (3, 0, None, row(3)), (3, 1, None, row(4)),
                                 (4, 0, "truncated object", None)]
    assert records[1].text == reading(2) + " "
    assert records[4].text == reading(5) + ","


def test_last_line_cut_off_without_newline_is_a_truncated_object(tmp_path: Path) -> None:
    cut = reading(2)[:20]
    records = read(tmp_path, {"a.json": reading(1) + "\n" + cut})
    assert outcomes(records) == [(1, 0, None, row(1)), (2, 0, "truncated object", None)]
    assert records[1].text == cut


def test_unclosed_object_in_the_middle_of_a_file_is_truncated(tmp_path: Path) -> None:
    text = "\n".join([reading(1), reading(2)[:-1], reading(3)]) + "\n"
    assert outcomes(read(tmp_path, {"a.json": text})) == [
        (1, 0, None, row(1)), (2, 0, "truncated object", None), (3, 0, None, row(3))]


def test_empty_files_and_blank_lines_have_no_records(tmp_path: Path) -> None:
    records = read(tmp_path, {"empty.json": "",
                              "blank.json": "\n  \n\t\n,\n" + reading(1) + "\n\n"})
    assert [(r.source_file, r.line_number) for r in records] == [("blank.json", 5)]


def test_crlf_line_ends_are_removed(tmp_path: Path) -> None:
    records = read(tmp_path, {"a.json": f"{reading(1)}\r\n\r\n{reading(2)},\r\n"})
    assert outcomes(records) == [(1, 0, None, row(1)), (3, 0, None, row(2))]
    assert records[0].text == reading(1)


def test_keys_match_the_schema_ignoring_case(tmp_path: Path) -> None:
    text = f'{{"USER": "{ANA}", "timeStamp": 5, "X": 1, "y": 2, "Z": 3}}'
    assert only_outcome(tmp_path, text) == (None, (ANA, 5, 1.0, 2.0, 3.0))


@pytest.mark.parametrize("text", [
    f'{{"user": "{ANA}", "timestamp": 5, "timeStamp": 6, "x": 1, "y": 1, "z": 1}}',
    f'{{"user": "{ANA}", "timestamp": 5, "Note": "a", "note": "b"}}',  # unknown keys too
])
def test_keys_equal_only_ignoring_case_are_a_duplicate_field(tmp_path: Path, text: str) -> None:
    assert only_outcome(tmp_path, text) == ("duplicate field", None)


def test_exactly_repeated_key_takes_the_last_value(tmp_path: Path) -> None:
    text = f'{{"user": "{ANA}", "timestamp": 5, "x": 1, "y": 1, "z": 1, "timestamp": 6}}'
    assert only_outcome(tmp_path, text) == (None, (ANA, 6, 1.0, 1.0, 1.0))


def test_wrong_types_are_listed_in_schema_order(tmp_path: Path) -> None:
    text = '{"z": "n/a", "user": "a", "timestamp": "yesterday", "x": "abc", "y": 1}'
    assert only_outcome(tmp_path, text) == ("wrong type: timestamp, x, z", None)


def test_wrong_type_is_reported_before_a_missing_key(tmp_path: Path) -> None:
    assert only_outcome(tmp_path, '{"timestamp": "soon"}') == ("wrong type: timestamp", None)


@pytest.mark.parametrize(("value", "expected"), [
    ('"123"', 123),  # a number written as a JSON string is accepted, as by Athena's SerDe
    ("123", 123),
    ('"-7"', -7),
    ("007", None),  # not JSON: a leading zero
    ('"007"', 7),
    ("9223372036854775807", 9223372036854775807),
    ("-9223372036854775808", -9223372036854775808),
    ("9223372036854775808", WRONG),
    ("1.0", WRONG),
    ("1e3", WRONG),
    ('" 5"', WRONG),
    ('"5\\n"', WRONG),
    ("true", WRONG),
    ("[5]", WRONG),
    ("null", "missing"),
])
def test_bigint_needs_the_text_of_a_64_bit_integer(tmp_path: Path, value: str,
                                                   expected: int | str | None) -> None:
    reason, values = only_outcome(tmp_path, f'{{"user": "{ANA}", "timestamp": {value}}}')
    if expected is None:
        assert (reason, values) == ("malformed JSON", None)
    elif expected == WRONG:
        assert (reason, values) == ("wrong type: timestamp", None)
    elif expected == "missing":
        assert (reason, values) == ("missing key field: timestamp", None)
    else:
        assert (reason, values) == (None, (ANA, expected, None, None, None))


@pytest.mark.parametrize(("value", "expected"), [
    ("2147483647", 2147483647),
    ("-2147483648", -2147483648),
    ("2147483648", None),
    ("-2147483649", None),
    ("12.5", None),
    ('"250"', 250),
])
def test_int_needs_the_text_of_a_32_bit_integer(tmp_path: Path, value: str,
                                                expected: int | None) -> None:
    text = f'{{"sensorReadingTime": 1, "serialNumber": "s", "distanceFromObject": {value}}}'
    outcome = only_outcome(tmp_path, text, "step_trainer")
    assert outcome == ((None, (1, "s", expected)) if expected is not None
                       else ("wrong type: distanceFromObject", None))


@pytest.mark.parametrize(("value", "expected"), [
    ("1.5", 1.5), ('"2"', 2.0), ("1e3", 1000.0), ("-2E-1", -0.2), ('".5"', 0.5), ('"+1.5"', 1.5),
    ('"5."', 5.0), ("1e400", None),
    ('"abc"', None), ('"NaN"', None), ("NaN", None), ("-Infinity", None), ('"1,5"', None),
    ("false", None), ('{"v": 1}', None),
])
def test_double_needs_the_text_of_a_decimal_number(tmp_path: Path, value: str,
                                                   expected: float | None) -> None:
    reason, values = only_outcome(tmp_path, f'{{"user": "{ANA}", "timestamp": 1, "x": {value}}}')
    if expected is None:
        assert (reason, values) == ("wrong type: x", None)
    else:
        assert (reason, values) == (None, (ANA, 1, expected, None, None))


def test_string_fields_take_any_value_as_its_text(tmp_path: Path) -> None:
    text = ('{"customerName": {"first": "Zoë", "n": 1.50}, "email": "a@x", "phone": 8015550000, '
            '"birthDay": true, "serialNumber": [1, "b", null], "registrationDate": null}')
    reason, values = only_outcome(tmp_path, text, "customer")
    assert (reason, values) == (None, (
        '{"first":"Zoë","n":1.50}', "a@x", "8015550000", "true", '[1,"b",null]',
        None, None, None, None, None))
    assert {type(value) for value in values[:5]} == {str}


@pytest.mark.parametrize(("source", "text", "reason"), [
    ("step_trainer", '{"distanceFromObject": 1}',
     "missing key field: sensorReadingTime, serialNumber"),
    ("step_trainer", '{"sensorReadingTime": null, "serialNumber": "s"}',
     "missing key field: sensorReadingTime"),
    ("accelerometer", '{"user": null, "timestamp": 1, "x": 1, "y": 1, "z": 1}',
     "missing key field: user"),
    ("customer", '{"customerName": "Ana", "registrationDate": 1}', "missing key field: email"),
])
def test_records_without_a_key_field_are_quarantined(tmp_path: Path, source: str, text: str,
                                                     reason: str) -> None:
    assert only_outcome(tmp_path, text, source) == (reason, None)


def test_absent_fields_other_than_keys_are_null(tmp_path: Path) -> None:
    assert only_outcome(tmp_path, '{"email": "a@x"}', "customer") == (
        None, (None, "a@x", None, None, None, None, None, None, None, None))


@pytest.mark.parametrize("text", [
    "this is not json",
    "{'user': 'a@x', 'timestamp': 9}",
    "[" + reading(1) + "]",
    "42",
    "null",
    '"a string"',
    reading(1) + "}",
    "{" + reading(1),
])
def test_anything_but_one_object_is_malformed(tmp_path: Path, text: str) -> None:
    assert only_outcome(tmp_path, text) == ("malformed JSON", None)


def test_trailing_text_after_an_object_counts_as_truncated(tmp_path: Path) -> None:
    # The rule looks at the last character only: the object is not where the text ends.
    assert only_outcome(tmp_path, reading(1) + " xyz") == ("truncated object", None)


def test_objects_are_split_even_inside_a_string(tmp_path: Path) -> None:
    # The rule is one regex on the text: the pieces are quarantined rather than guessed at.
    records = read(tmp_path, {"a.json": '{"user": "}{", "timestamp": 1}\n'})
    assert [(r.object_index, r.text, r.reason) for r in records] == [
        (0, '{"user": "}', "malformed JSON"), (1, '{", "timestamp": 1}', "malformed JSON")]


def test_undecodable_bytes_become_replacement_characters(tmp_path: Path) -> None:
    records = read(tmp_path, {"a.json": b'{"user": "a\xff", "timestamp": 1}\n'})
    assert outcomes(records) == [(1, 0, None, ("a\ufffd", 1, None, None, None))]


def test_files_are_read_recursively_skipping_hidden_and_underscore_names(tmp_path: Path) -> None:
    files = {"b.json": reading(2) + "\n", "sub/a.json": reading(1) + "\n",
             "_SUCCESS": reading(3) + "\n", ".b.json.crc": reading(4) + "\n",
             "_temporary/c.json": reading(5) + "\n", "sub/.hidden/d.json": reading(6) + "\n"}
    records = read(tmp_path, files)
    assert [(r.source_file, r.values) for r in records] == [("b.json", row(2)),
                                                            ("sub/a.json", row(1))]


def test_missing_landing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="step_trainer/landing"):
        read_source(tmp_path, "step_trainer")


def test_summary_counts_reasons_by_name_and_every_record_once(tmp_path: Path) -> None:
    lines = [reading(1) + reading(2), '{"user": "a", "timestamp": "x"}', '{"user": "a", "x": "y"}',
             '{"timestamp": 3}', "oops", reading(4)[:9]]
    records = read(tmp_path, {"a.json": "\n".join(lines)})
    assert summarize(records) == {
        "accepted": 2, "quarantined": 5,
        "by_reason": {"malformed JSON": 1, "missing key field": 1, "truncated object": 1,
                      "wrong type": 2}}


def test_accepted_rows_of_a_lake_per_source(tmp_path: Path) -> None:
    read(tmp_path, {"c.json": '{"email": "a@x"}\n{"email": null}\n'}, "customer")
    read(tmp_path, {"a.json": reading(1) + "oops\n"})
    read(tmp_path, {"s.json": ""}, "step_trainer")
    assert accepted_rows(tmp_path) == {
        "customer": [(None, "a@x", None, None, None, None, None, None, None, None)],
        "accelerometer": [], "step_trainer": []}


def test_cli_prints_the_summaries_as_json(tmp_path: Path) -> None:
    read(tmp_path, {"c.json": '{"email": "a@x"}\n'}, "customer")
    read(tmp_path, {"a.json": "oops\n"})
    read(tmp_path, {"s.json": ""}, "step_trainer")
    result = subprocess.run([sys.executable, "-m", "scripts.reference.landing_python", "--lake",
                             str(tmp_path)], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "customer": {"accepted": 1, "quarantined": 0, "by_reason": {}},
        "accelerometer": {"accepted": 0, "quarantined": 1, "by_reason": {"malformed JSON": 1}},
        "step_trainer": {"accepted": 0, "quarantined": 0, "by_reason": {}}}


def test_cli_missing_folder_is_one_line_exit_2(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "scripts.reference.landing_python", "--lake",
                             str(tmp_path / "nowhere")], cwd=REPO, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1 and "customer/landing" in result.stderr
