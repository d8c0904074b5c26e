"""Forgetting a customer: what leaves the landing files, what stays byte for byte, and zones
equal to a run on the landing data without the customer."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scripts import forget, run_local
from scripts.erasure import forgetting, landing_records, local_lake
from scripts.lake import local_device_key, pipeline
from scripts.local_glue import runner
from scripts.reference import landing_python, zones_duckdb
from scripts.sample_data.generator import generate
from tests.support import UDACITY_DATA, copy_landing, needs_udacity_data, reference_rows
from tests.test_pipeline import output_rows

ANA, BO = "ana@example.com", "bo@example.com"


def customer_line(email: str, serial: str, **fields) -> str:
    return json.dumps({"customerName": "A B", "email": email, "phone": "1",
                       "birthDay": "1990-01-01",
                       "serialNumber": serial, "registrationDate": 1, "lastUpdateDate": 1,
                       "shareWithResearchAsOfDate": 1, **fields})


# --- the erasure reads landing files as the jobs do, by its own code ----------------------------

@pytest.mark.parametrize(("text", "source"), [
    ('{"user": "a@b.c", "timestamp": 1, "x": NaN}', "accelerometer"),  # not a finite double
    ('{"user": "a@b.c", "timestamp": 1, "x": 1e400}', "accelerometer"),
    ('{"user": "a@b.c", "timestamp": "12", "x": "-0"}', "accelerometer"),  # numbers as strings
    ('{"user": "a@b.c", "timestamp": 1, "x": true}', "accelerometer"),
    ('{"user": "a@b.c", "timestamp": 1.5}', "accelerometer"),  # no integer
    ('{"user": "a@b.c", "timestamp": 9223372036854775808}', "accelerometer"),  # 2^63
    ('{"user": "a@b.c", "Timestamp": 1, "timestamp": 2}', "accelerometer"),  # names by case
    ('{"user": "a@b.c", "timestamp": 1, "timestamp": 2}', "accelerometer"),  # the same name
    ('{"user": null, "timestamp": 1}', "accelerometer"),  # a key field null
    ('{"timestamp": 1}', "accelerometer"),  # a key field missing
    ('{"email": {"nested": 1}, "registrationDate": 1}', "customer"),  # an object as a string
    ('{"sensorReadingTime": 1, "serialNumber": "s", "distanceFromObject": 2147483648}',
     "step_trainer"),  # 2^31
    ('[{"user": "a@b.c", "timestamp": 1}]', "accelerometer"),  # an array, not an object
    ('{"user": "a@b.c", "timestamp": 1', "accelerometer"),  # truncated
])
def test_the_erasures_verdict_on_a_record_is_the_references(text, source):
    reason, _ = landing_python.check_fragment(text, source)
    assert landing_records.is_quarantined(text, source) is (reason is not None)


def test_the_erasure_splits_and_judges_every_record_of_a_dirty_lake_as_the_reference(tmp_path):
    """Two readings of the same rules (docs/design.md, "Bad input"): the erasure's own, and the
    reference the pipeline is tested against, record for record on every defect the
    generator makes."""
    generate(tmp_path, scale=0.05, seed=11, files_per_source=2, dirty=True)
    for source in pipeline.SOURCES:
        records = landing_python.read_source(tmp_path, source)
        assert any(record.reason for record in records)
        by_file = {}
        for record in records:
            by_file.setdefault(record.source_file, []).append(record)
        for name, expected in by_file.items():
            data = (tmp_path / source / "landing" / name).read_bytes()
            assert list(landing_records.record_texts(data)) == [r.text for r in expected]
        assert [landing_records.is_quarantined(r.text, source) for r in records] == [
            r.reason is not None for r in records]


# --- which records are the customer's ----------------------------------------------------------

@pytest.mark.parametrize(("text", "source", "theirs"), [
    (customer_line(ANA, "s1"), "customer", True),
    (customer_line(BO, "s1"), "customer", False),
    ('{"EMAIL": "ana@example.com", "serialNumber": "s1"}', "customer", True),  # any spelling
    ('{"email": "ana@example.com", "Email": "bo@example.com"}', "customer", True),
    ('{"email": "ANA@example.com"}', "customer", False),  # the email exactly, as the zones key it
    ('{"user": "ana@example.com", "timestamp": 1, "x": "abc"}', "accelerometer", True),
    ('{"user": "ana@example.com", "timestamp": 1, "x": 1.0', "accelerometer", True),  # truncated
    ('{"user": "bo@example.com", "note": "ana@example.com"}', "accelerometer", False),
    ('<html>ana@example.com</html>', "accelerometer", False),  # not as a JSON string
    ('{"sensorReadingTime": 1, "serialNumber": "s1"}', "step_trainer", True),
    ('{"sensorReadingTime": 1, "SerialNumber": "s1", "distanceFromObject": 1}', "step_trainer",
     True),
    ('{"sensorReadingTime": 1, "serialNumber": "s2"}', "step_trainer", False),
    ('{"sensorReadingTime": "soon", "serialNumber": "s1"', "step_trainer", True),
])
def test_a_record_is_the_customers_by_its_identity_field_or_its_text(text, source, theirs):
    assert landing_records.belongs(text, source, ANA, frozenset({"s1"})) is theirs


def test_a_serial_number_another_customer_names_too_is_shared():
    files = [f"{customer_line(ANA, 's1')}\n{customer_line(ANA, 's2')}\n".encode(),
             f"{customer_line(BO, 's2')}\n{{\"email\": 1, \"serialNumber\": \"s3\"\n".encode()]
    assert landing_records.customer_serials(files, ANA) == ({"s1"}, {"s2"})


def test_other_lines_stay_byte_for_byte_and_a_mixed_line_keeps_the_others_records():
    bo = customer_line(BO, "s2")
    data = (f"{bo}\r\n"
            f"{customer_line(ANA, 's1')}\r\n"
            f"  {bo} ,{customer_line(ANA, 's1')},\r\n"
            "garbage ana@example.com\r\n"
            f"{bo}").encode()
    removal = landing_records.without_customer(data, "customer", ANA, frozenset({"s1"}))
    assert (removal.removed, removal.quarantined, removal.split_lines) == (2, 0, 1)
    assert removal.data == (f"{bo}\r\n{bo}\n" "garbage ana@example.com\r\n" f"{bo}").encode()


def test_a_file_of_nobody_else_becomes_empty():
    data = f"{customer_line(ANA, 's1')}\n{customer_line(ANA, 's1')}\n".encode()
    assert landing_records.without_customer(data, "customer", ANA, frozenset()).data == b""


@pytest.mark.parametrize("text", ["nope", "ana@", "@example.com", "a b@example.com",
                                  'a"@example.com', "ana@example"])
def test_a_malformed_email_is_refused(text):
    with pytest.raises(landing_records.InvalidEmailError):
        landing_records.checked_email(text)


# --- property: forget never touches another customer's records ---------------------------------
# Every generated record knows whose it is, so what must go and what must stay comes from the
# generator, not from the rules under test.

EMAILS = ("ana@example.com", "bo@example.com", "cy@example.com", "ana@example.co")
SERIALS = ("s1", "s2", "s3", "s11")
IDENTITY = {"customer": (EMAILS, ("email", "Email", "EMAIL")),
            "accelerometer": (EMAILS, ("user", "User")),
            "step_trainer": (SERIALS, ("serialNumber", "SerialNumber"))}
OTHER_FIELDS = {"customer": {"serialNumber": "s1", "registrationDate": 1},
                "accelerometer": {"timestamp": 1, "x": 0.5},
                "step_trainer": {"sensorReadingTime": 1, "distanceFromObject": 3}}


def records_of(source: str):
    """(owner, text) of one readable record of ``source``."""
    owners, spellings = IDENTITY[source]
    return st.builds(lambda owner, spelling, extra: (owner, json.dumps(
        {spelling: owner, **(OTHER_FIELDS[source] if extra else {})})),
        st.sampled_from(owners), st.sampled_from(spellings), st.booleans())


def cut_short(record: tuple[str, str], cut: int) -> tuple[str, str]:
    """The record cut off as at the end of a broken export; still its owner's. Not after a
    comma or a space: the reader takes those at a line's end for the line's, not the record's."""
    owner, text = record
    return owner, text[:min(cut, len(text) - 1)].rstrip(", ")


def lines_of(source: str):
    """A line: 1-3 records back to back, maybe a cut-off one last; or a line of garbage."""
    whole = st.lists(records_of(source), min_size=1, max_size=3)
    cut = st.one_of(st.none(), st.builds(cut_short, records_of(source), st.integers(2, 60)))
    joined = st.builds(lambda records, last: records + ([last] if last else []), whole, cut)
    garbage = st.sampled_from(["null", "[1]", "<html>ana@example.com</html>"]).map(
        lambda text: [(None, text)])
    return st.tuples(st.one_of(joined, garbage), st.sampled_from(["", ",", " , "]))


def expected_gone(owner: str | None, text: str, targets: frozenset[str]) -> bool:
    """A record goes when it is a target's; one that is cut off only when it still holds the
    whole value as a JSON string (else nothing in it says whose it was)."""
    if owner not in targets:
        return False
    readable = text.endswith("}")
    return readable or json.dumps(owner) in text


@pytest.mark.parametrize("source", pipeline.SOURCES)
def test_forget_removes_exactly_the_customers_records_and_keeps_every_other_byte(source):
    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(lines=st.lists(lines_of(source), max_size=8), end=st.sampled_from(["\n", "\r\n"]),
           final_newline=st.booleans(), target=st.sampled_from(IDENTITY[source][0]))
    def check(lines, end, final_newline, target):
        targets = frozenset({target})
        email, serials = (target, frozenset()) if source != "step_trainer" else ("-", targets)
        texts = [separator.join(text for _, text in records) for records, separator in lines]
        data = (end.join(texts) + (end if final_newline and texts else "")).encode()

        removal = landing_records.without_customer(data, source, email, serials)

        records = [record for records, _ in lines for record in records]
        gone = [text for owner, text in records if expected_gone(owner, text, targets)]
        kept = [text for owner, text in records if not expected_gone(owner, text, targets)]
        assert Counter(landing_records.record_texts(removal.data)) == Counter(kept)
        assert removal.removed == len(gone)
        # Every line with nothing of the target's is still there, byte for byte, in order.
        untouched = [physical for physical, (records, _) in zip(data.split(b"\n"), lines)
                     if not any(expected_gone(o, t, targets) for o, t in records)]
        remaining = iter(removal.data.split(b"\n"))
        assert all(any(line == candidate for candidate in remaining) for line in untouched)

    check()


def test_a_cut_off_record_running_into_the_next_is_removed_whole():
    """Nothing parts a cut-off record from the object after it (no closing brace): the jobs
    quarantine the two as one record, and forget removes it if it names the customer."""
    line = '{"user": "ana@example.com", "timestamp": 1, "x{"user": "bo@example.com"}'
    removal = landing_records.without_customer(line.encode(), "accelerometer", ANA, frozenset())
    assert (removal.removed, removal.data) == (1, b"")


def test_own_and_shared_serial_numbers_are_apart():
    files = [f"{customer_line(ANA, 's1')}\n{customer_line(BO, 's1')}\n".encode()]
    own, shared = landing_records.customer_serials(files, ANA)
    assert (own, shared) == (set(), {"s1"})


# --- the whole lake: dirty generated data ------------------------------------------------------

def run_in_process(spark):
    """The local runner's work, on the test session: what forget's default runs in a process."""
    def run_jobs(lake: Path, arguments: list[str]) -> None:
        args = run_local.parse_arguments(["--lake", str(lake), *arguments])
        options = pipeline.job_options(args.database, args.consent_mode, args.ml_match)
        report = runner.run_pipeline(lake, pipeline.JOBS, options, spark, args.device_key_file)
        runner.write_report(report, lake, None)
    return run_jobs


def open_lake(lake: Path, spark) -> local_lake.LocalLake:
    return local_lake.LocalLake(lake, pipeline.DEFAULT_DATABASE,
                                local_device_key.default_key_file(), run_in_process(spark))


def records_by_source(lake: Path) -> dict[str, Counter]:
    return {source: Counter(r.text for r in landing_python.read_source(lake, source))
            for source in pipeline.SOURCES}


def reference_zones(lake: Path) -> dict[str, list[tuple]]:
    """The zones the DuckDB reference computes from the records the landing reference
    accepts: what a fresh run on that landing data gives."""
    return reference_rows(
        zones_duckdb.compute_zones(lake, accepted_rows=landing_python.accepted_rows(lake)))


@pytest.fixture(scope="module")
def dirty_run(spark, tmp_path_factory):
    """A dirty generated lake after a default run: the original kept aside, read-only."""
    lake = tmp_path_factory.mktemp("forget") / "lake"
    generate(lake, scale=0.1, seed=5, dirty=True, files_per_source=2)
    run_in_process(spark)(lake, [])
    return lake


def serials_of(lake: Path, email: str) -> tuple[set[str], set[str]]:
    """(the customer's own serial numbers, those shared with other customers)."""
    customers = [r.text.encode() for r in landing_python.read_source(lake, "customer")]
    return landing_records.customer_serials(customers, email)


def consenting_with(lake: Path, quarantined: bool, shared: bool = False) -> str:
    """A curated customer (consenting, with readings) who has, or has not, a quarantined
    accelerometer record naming them, and, if asked, a serial number shared with others."""
    curated = {row[1] for row in output_rows(lake)["customer_curated"]}
    in_quarantine = {json.loads(line)["record"] for path in
                     (lake / "accelerometer" / "quarantine").glob("*.json")
                     for line in path.read_text().splitlines()}
    for email in sorted(curated):
        mentioned = any(json.dumps(email) in record for record in in_quarantine)
        if mentioned == quarantined and (not shared or serials_of(lake, email)[1]):
            return email
    raise AssertionError("the generated data has no such customer")


@pytest.mark.parametrize("quarantined, shared", [(True, False), (False, True)],
                         ids=["quarantined-records", "shared-serial"])
def test_forget_on_dirty_data_equals_a_run_without_the_customer(spark, dirty_run, tmp_path,
                                                                quarantined, shared, capsys):
    lake = tmp_path / "lake"
    shutil.copytree(dirty_run, lake)
    email = consenting_with(lake, quarantined, shared)
    own_serials, shared_serials = serials_of(lake, email)
    before_steps = Counter(
        r.text for r in landing_python.read_source(lake, "step_trainer")
        if any(json.dumps(serial) in r.text for serial in shared_serials))
    before = records_by_source(lake)

    record = forgetting.forget(open_lake(lake, spark), email)

    after = records_by_source(lake)
    for source in pipeline.SOURCES:
        gone = before[source] - after[source]
        assert not after[source] - before[source], source  # nothing new, nothing altered
        assert all(landing_records.belongs(text, source, email, frozenset(own_serials))
                   for text in gone)
        assert not any(landing_records.belongs(text, source, email, frozenset(own_serials))
                       for text in after[source])
        assert record["landing_records_removed"][source] == sum(gone.values())
    assert record["serial_numbers_removed"] == len(own_serials)
    assert record["shared_serial_numbers_kept"] == len(shared_serials) > 0 or not shared
    assert not before_steps - after["step_trainer"]  # a shared device's readings all stay
    assert (record["quarantined_records_removed"]["accelerometer"] > 0) is quarantined
    assert output_rows(lake) == reference_zones(lake)
    summaries = landing_python.summarize_lake(lake)
    assert record["zone_rows_after"] == json.loads(
        (lake / "_reports" / "latest.json").read_text())["tables"]
    assert {s: json.loads((lake / pipeline.accounting_path(s)).read_text())["quarantined"]
            for s in pipeline.SOURCES} == {s: summaries[s]["quarantined"]
                                           for s in pipeline.SOURCES}
    # Every catalog table is proven clean; the step trainer's only if the customer owns a device.
    assert set(record["proof_rows_left"].values()) == {0}
    assert len(record["proof_rows_left"]) == (11 if own_serials else 7)
    assert record["text_files_mentioning"] == 0
    text = json.dumps(record)
    assert email not in text and not any(serial in text for serial in own_serials)
    assert not list((lake / forgetting.PENDING).glob("*"))
    capsys.readouterr()
    forgetting.forget(open_lake(lake, spark), email)
    assert "nothing to forget" in capsys.readouterr().out


def test_an_interrupted_forget_finishes_on_the_next_run(spark, dirty_run, tmp_path, monkeypatch):
    """A failure after the first landing file was replaced (a full disk, a kill), then one
    after the landing files but before the jobs: each re-run takes up where the last stopped,
    and the end is the same as that of an uninterrupted run."""
    email = consenting_with(dirty_run, quarantined=True)
    lakes = {}
    for name in ("straight", "interrupted"):
        lakes[name] = tmp_path / name
        shutil.copytree(dirty_run, lakes[name])
    straight = forgetting.forget(open_lake(lakes["straight"], spark), email)

    replace = local_lake.LocalLake.replace
    landing_files_written = []

    def fail_on_second_landing_file(self, key, data):
        if "/landing/" in key:
            landing_files_written.append(key)
            if len(landing_files_written) == 2:
                raise OSError("No space left on device")
        replace(self, key, data)

    monkeypatch.setattr(local_lake.LocalLake, "replace", fail_on_second_landing_file)
    with pytest.raises(OSError):
        forgetting.forget(open_lake(lakes["interrupted"], spark), email)
    first, second = landing_files_written  # the first replaced, the second not
    assert (lakes["interrupted"] / first).read_bytes() != (dirty_run / first).read_bytes()
    assert (lakes["interrupted"] / second).read_bytes() == (dirty_run / second).read_bytes()
    monkeypatch.setattr(local_lake.LocalLake, "replace", replace)
    monkeypatch.setattr(local_lake.LocalLake, "run_jobs", lambda self: (_ for _ in ()).throw(
        forget.CliError("the jobs failed")))
    with pytest.raises(forget.CliError):
        forgetting.forget(open_lake(lakes["interrupted"], spark), email)
    monkeypatch.undo()
    finished = forgetting.forget(open_lake(lakes["interrupted"], spark), email)

    assert records_by_source(lakes["interrupted"]) == records_by_source(lakes["straight"])
    assert output_rows(lakes["interrupted"]) == output_rows(lakes["straight"])
    same = ("subject", "landing_records_removed", "quarantined_records_removed",
            "serial_numbers_removed", "zone_rows_before", "zone_rows_after")
    assert {k: finished[k] for k in same} == {k: straight[k] for k in same}


def test_dry_run_and_unknown_email_change_nothing(dirty_run, tmp_path, capsys):
    lake = tmp_path / "lake"
    shutil.copytree(dirty_run, lake)
    email = consenting_with(lake, quarantined=False)
    files = {p: p.read_bytes() for p in lake.rglob("*") if p.is_file()}
    assert forget.main(["--lake", str(lake), "--email", email, "--dry-run"]) == 0
    assert forget.main(["--lake", str(lake), "--email", "nobody@example.com"]) == 0
    out = capsys.readouterr().out
    assert "Nothing was changed (--dry-run)" in out and "nothing to forget" in out
    assert {p: p.read_bytes() for p in lake.rglob("*") if p.is_file()} == files


@pytest.mark.parametrize("arguments, message", [
    (["--email", "not-an-email"], "not an email address"),
    (["--email", "a@example.com", "--lake", "/no/such/lake"], "does not exist"),
])
def test_bad_input_is_one_line_and_exit_status_2(tmp_path, capsys, arguments, message):
    if "--lake" not in arguments:
        arguments = [*arguments, "--lake", str(tmp_path)]
    with pytest.raises(SystemExit) as exit_status:
        forget.main(arguments)
    assert exit_status.value.code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


# --- acceptance: the Udacity data, by the command line ------------------------------------------

@needs_udacity_data
def test_forget_on_udacity_data_leaves_no_trace_and_equals_a_run_without_the_customer(
        spark, tmp_path):
    """By the command line, whose job runner is the local runner in a process of its own."""
    lake = copy_landing(UDACITY_DATA, tmp_path / "lake")
    run_in_process(spark)(lake, [])
    # The second curated customer in email order (the acceptance check uses another one).
    email = sorted(row[1] for row in output_rows(lake)["customer_curated"])[1]
    serials, _ = landing_records.customer_serials(
        [p.read_bytes() for p in (lake / "customer" / "landing").glob("*.json")], email)
    original = {p.relative_to(lake): p.read_bytes().splitlines(keepends=True)
                for p in lake.glob("*/landing/*.json")}

    assert forget.main(["--lake", str(lake), "--email", email]) == 0

    removed = Counter()
    for path, lines in original.items():
        source = path.parts[0]
        kept = [line for line in lines
                if not landing_records.belongs(line.decode().strip(), source, email,
                                               frozenset(serials))]
        assert (lake / path).read_bytes() == b"".join(kept), path
        removed[source] += len(lines) - len(kept)
    assert serials and all(removed[source] > 0 for source in pipeline.SOURCES)
    for path in lake.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert email.encode() not in data, path
            assert not any(serial.encode() in data for serial in serials), path
    assert output_rows(lake) == reference_rows(zones_duckdb.compute_zones(lake))
