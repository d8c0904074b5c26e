"""Tests of the data generator: shape, size, determinism, the cases the zone rules need, its CLI.

The properties are measured the way the pipeline would see them: with the DuckDB reference
implementation over the generated files.
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest

from scripts.lake import pipeline
from scripts.reference.landing_python import Record, read_source, summarize
from scripts.reference.zones_duckdb import LANDING_COLUMNS, compute_zones, zone_counts
from scripts.sample_data.generator import (
    LandingExistsError,
    generate,
    landing_folder,
    manifest_path,
)

REPO = Path(__file__).resolve().parents[1]
SMALL_SCALE = 0.05
# Dirty data must show every defect even at the smallest scale.
DIRTY_SCALE = 0.01
REASONS = ["duplicate field", "malformed JSON", "missing key field", "truncated object",
           "wrong type"]
JSON_TYPES = {"varchar": str, "bigint": int, "integer": int, "double": float}


def landing_files(lake: Path) -> dict[str, bytes]:
    """Every landing file's bytes, keyed by its path relative to the lake root."""
    return {str(path.relative_to(lake)): path.read_bytes()
            for source in pipeline.SOURCES
            for path in sorted(landing_folder(lake, source).iterdir())}


def landing_lines(lake: Path, source: str) -> list[dict]:
    return [json.loads(line) for path in sorted(landing_folder(lake, source).glob("*.json"))
            for line in path.read_text().splitlines()]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scripts.generate_data", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def small_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lake = tmp_path_factory.mktemp("small_lake")
    generate(lake, scale=SMALL_SCALE)
    return lake


@pytest.fixture(scope="module")
def counts(small_lake: Path) -> dict[tuple[str, str], dict[str, int]]:
    """Zone counts of the small lake for every (consent_mode, ml_match)."""
    return {(c, m): zone_counts(small_lake, c, m)
            for c, m in itertools.product(pipeline.CONSENT_MODES, pipeline.ML_MATCHES)}


@pytest.fixture(scope="module")
def landing(small_lake: Path) -> duckdb.DuckDBPyConnection:
    return compute_zones(small_lake)


def scalar(connection: duckdb.DuckDBPyConnection, sql: str) -> int:
    return connection.execute(sql).fetchone()[0]


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    generate(tmp_path / "a", scale=0.02, seed=7)
    generate(tmp_path / "b", scale=0.02, seed=7)
    assert landing_files(tmp_path / "a") == landing_files(tmp_path / "b")


def test_another_seed_gives_other_data(tmp_path: Path) -> None:
    generate(tmp_path / "a", scale=0.02, seed=7)
    generate(tmp_path / "b", scale=0.02, seed=8)
    first, second = landing_files(tmp_path / "a"), landing_files(tmp_path / "b")
    assert first.keys() == second.keys()
    assert all(first[name] != second[name] for name in first)


def test_scale_one_has_about_the_udacity_sizes(tmp_path: Path) -> None:
    written = generate(tmp_path, scale=1)
    emails = {record["email"] for record in landing_lines(tmp_path, "customer")}
    assert 900 <= len(emails) <= 1100
    assert 72_000 <= written["accelerometer"] <= 88_000
    assert 27_000 <= written["step_trainer"] <= 33_000


def test_returned_counts_are_the_lines_written(small_lake: Path) -> None:
    lines = {source: len(landing_lines(small_lake, source)) for source in pipeline.SOURCES}
    assert generate(small_lake, scale=SMALL_SCALE, overwrite=True) == lines


def test_files_are_numbered_per_source(tmp_path: Path) -> None:
    generate(tmp_path, scale=0.01, files_per_source=3)
    assert sorted(landing_files(tmp_path)) == [
        f"{source}/landing/{source}-{n:04d}.json"
        for source in sorted(pipeline.SOURCES) for n in (1, 2, 3)]


@pytest.mark.parametrize("source", pipeline.SOURCES)
def test_lines_have_design_keys_in_order_and_types(small_lake: Path, source: str) -> None:
    schema = LANDING_COLUMNS[source]
    for record in landing_lines(small_lake, source):
        assert list(record) == [column for column in schema if column in record]
        assert all(isinstance(value, JSON_TYPES[schema[column]])
                   for column, value in record.items() if value is not None)


def test_research_consent_is_both_absent_and_explicitly_null(small_lake: Path) -> None:
    records = landing_lines(small_lake, "customer")
    assert any("shareWithResearchAsOfDate" not in r for r in records)
    assert any(r.get("shareWithResearchAsOfDate", 0) is None for r in records)


def test_about_half_the_customers_consent(landing: duckdb.DuckDBPyConnection) -> None:
    emails = scalar(landing, "select count(distinct email) from customer_landing")
    trusted = scalar(landing, "select count(*) from customer_trusted")
    assert 0.4 <= trusted / emails <= 0.6


def test_other_share_dates_are_sometimes_null(landing: duckdb.DuckDBPyConnection) -> None:
    assert scalar(landing, "select count(*) from customer_trusted "
                           "where shareWithPublicAsOfDate is null") > 0
    assert scalar(landing, "select count(*) from customer_trusted "
                           "where shareWithFriendsAsOfDate is null") > 0


def test_a_later_record_withdraws_or_grants_consent(landing: duckdb.DuckDBPyConnection) -> None:
    changes = landing.execute("""
        with ordered as (
            select email,
                   shareWithResearchAsOfDate is not null as consents,
                   row_number() over (partition by email order by lastUpdateDate desc,
                                      registrationDate desc) as recency
            from customer_landing
        )
        select distinct latest.consents
        from ordered as latest
        inner join ordered as earlier on earlier.email = latest.email and earlier.recency = 2
        where latest.recency = 1 and latest.consents <> earlier.consents
        order by 1
    """).fetchall()
    assert changes == [(False,), (True,)]


def test_exact_duplicate_readings_exist(landing: duckdb.DuckDBPyConnection) -> None:
    for table in ("accelerometer_landing", "step_trainer_landing"):
        assert scalar(landing, f"select count(*) - count(distinct t) from {table} as t") > 0


def test_readings_of_unknown_users_and_devices_exist(landing: duckdb.DuckDBPyConnection) -> None:
    assert scalar(landing, "select count(*) from accelerometer_landing where user not in "
                           "(select email from customer_landing)") > 0
    assert scalar(landing, "select count(*) from step_trainer_landing where serialNumber not in "
                           "(select serialNumber from customer_landing)") > 0


def test_since_consent_drops_readings_and_customers(counts: dict) -> None:
    registered = counts[("registered", "device")]
    since_consent = counts[("since_consent", "device")]
    for table in ("accelerometer_trusted", "customer_curated", "step_trainer_trusted"):
        assert since_consent[table] < registered[table], table


def test_some_trusted_customers_have_no_readings(counts: dict) -> None:
    registered = counts[("registered", "device")]
    assert registered["customer_curated"] < registered["customer_trusted"]


@pytest.mark.parametrize("consent_mode", pipeline.CONSENT_MODES)
def test_timestamp_match_pairs_more_rows_than_device(counts: dict, consent_mode: str) -> None:
    device = counts[(consent_mode, "device")]["machine_learning_curated"]
    assert counts[(consent_mode, "timestamp")]["machine_learning_curated"] > device


def test_generate_refuses_existing_landing_data(small_lake: Path) -> None:
    with pytest.raises(LandingExistsError, match="--overwrite"):
        generate(small_lake, scale=SMALL_SCALE)


def test_cli_writes_and_summarises(tmp_path: Path) -> None:
    result = run_cli("--lake", str(tmp_path), "--scale", "0.01", "--files-per-source", "2")
    assert result.returncode == 0, result.stderr
    assert [line.split(":")[0] for line in result.stdout.splitlines()[:3]] == list(pipeline.SOURCES)
    assert "in 2 files" in result.stdout
    assert len(list(landing_folder(tmp_path, "accelerometer").glob("*.json"))) == 2


def test_cli_refuses_existing_landing_data_in_one_line(tmp_path: Path) -> None:
    generate(tmp_path, scale=0.01)
    before = landing_files(tmp_path)
    result = run_cli("--lake", str(tmp_path), "--scale", "0.01", "--seed", "9")
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1 and "--overwrite" in result.stderr
    assert landing_files(tmp_path) == before


def test_cli_overwrite_replaces_only_landing_folders(tmp_path: Path) -> None:
    generate(tmp_path, scale=0.01)
    (landing_folder(tmp_path, "customer") / "stale.json").write_text("{}\n")
    trusted = tmp_path / "customer" / "trusted" / "part-0.parquet"
    trusted.parent.mkdir(parents=True)
    trusted.write_bytes(b"kept")
    result = run_cli("--lake", str(tmp_path), "--scale", "0.01", "--overwrite")
    assert result.returncode == 0, result.stderr
    assert not (landing_folder(tmp_path, "customer") / "stale.json").exists()
    assert trusted.read_bytes() == b"kept"


@pytest.mark.parametrize("mistake", [
    ["--scale", "0"],
    ["--scale", "-1"],
    ["--scale", "lots"],
    ["--scale", "nan"],
    ["--files-per-source", "0"],
    ["--seed", "-3"],
    ["--colour", "blue"],
    ["--dirty-rate", "0.1"],
    ["--dirty", "--dirty-rate", "1.5"],
    ["--dirty", "--dirty-rate", "nan"],
    ["--fleet", "-1"],
    [],
])
def test_cli_mistakes_exit_2_with_one_line(tmp_path: Path, mistake: list[str]) -> None:
    lake_args = ["--lake", str(tmp_path / "lake")] if mistake else []
    result = run_cli(*lake_args, *mistake)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "lake").exists()


# --- dirty data ----------------------------------------------------------------------------------


def raw_lines(lake: Path, source: str) -> list[str]:
    """Every physical line of a source's landing files, line ends removed."""
    return [line for path in sorted(landing_folder(lake, source).iterdir())
            for line in path.read_text(encoding="utf-8").split("\n")]


@pytest.fixture(scope="module")
def dirty_lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """A dirty lake at the smallest scale, and the record counts ``generate`` returned."""
    lake = tmp_path_factory.mktemp("dirty_lake")
    return lake, generate(lake, scale=DIRTY_SCALE, dirty=True)


@pytest.fixture(scope="module")
def dirty_records(dirty_lake: tuple[Path, dict[str, int]]) -> dict[str, list[Record]]:
    return {source: read_source(dirty_lake[0], source) for source in pipeline.SOURCES}


def test_dirty_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    generate(tmp_path / "a", scale=0.02, seed=7, dirty=True)
    generate(tmp_path / "b", scale=0.02, seed=7, dirty=True)
    assert landing_files(tmp_path / "a") == landing_files(tmp_path / "b")
    assert manifest_path(tmp_path / "a").read_bytes() == manifest_path(tmp_path / "b").read_bytes()


def test_clean_lake_has_nothing_to_quarantine(small_lake: Path) -> None:
    for source in pipeline.SOURCES:
        records = read_source(small_lake, source)
        assert summarize(records) == {"accepted": len(landing_lines(small_lake, source)),
                                      "quarantined": 0, "by_reason": {}}


@pytest.mark.parametrize("source", pipeline.SOURCES)
def test_dirty_lake_has_every_quarantine_reason(dirty_records: dict, source: str) -> None:
    assert list(summarize(dirty_records[source])["by_reason"]) == REASONS


@pytest.mark.parametrize("source", pipeline.SOURCES)
def test_dirty_lake_accepts_exactly_the_generated_records(dirty_lake: tuple,
                                                          dirty_records: dict,
                                                          source: str) -> None:
    # Defects that make a record unreadable are extra lines: none of the data set is lost.
    _, written = dirty_lake
    assert summarize(dirty_records[source])["accepted"] == written[source]


@pytest.mark.parametrize("source", pipeline.SOURCES)
def test_manifest_counts_the_quarantined_lines(dirty_lake: tuple, dirty_records: dict,
                                               source: str) -> None:
    lake, _ = dirty_lake
    injected = json.loads(manifest_path(lake).read_text())["defects"][source]
    broken = ("garbage_line", "unbalanced_braces", "wrong_type", "missing_key_field",
              "duplicate_field", "truncated_last_line")
    assert summarize(dirty_records[source])["quarantined"] == sum(injected[k] for k in broken)


@pytest.mark.parametrize("source", pipeline.SOURCES)
def test_objects_back_to_back_with_and_without_comma(dirty_lake: tuple, dirty_records: dict,
                                                     source: str) -> None:
    lake, _ = dirty_lake
    per_line = defaultdict(list)
    for record in dirty_records[source]:
        per_line[(record.source_file, record.line_number)].append(record.reason)
    assert any(len(reasons) > 1 and reasons.count(None) == len(reasons)
               for reasons in per_line.values())
    lines = raw_lines(lake, source)
    assert any(re.search(r"\}\s?\{", line) for line in lines)
    assert any(re.search(r"\}\s?,\s?\{", line) for line in lines)


@pytest.mark.parametrize("source", pipeline.SOURCES)
def test_trailing_commas_and_blank_lines(dirty_lake: tuple, source: str) -> None:
    lines = raw_lines(dirty_lake[0], source)
    assert any(line.rstrip("\r").endswith("},") for line in lines)
    assert any(not line.strip() for line in lines[:-1])  # the last split of a file is no line


@pytest.mark.parametrize("source", pipeline.SOURCES)
def test_a_file_cut_off_mid_object_and_an_empty_file(dirty_lake: tuple, dirty_records: dict,
                                                      source: str) -> None:
    folder = landing_folder(dirty_lake[0], source)
    contents = {path.name: path.read_bytes() for path in folder.iterdir()}
    assert b"" in contents.values()
    cut = [name for name, content in contents.items() if content and not content.endswith(b"\n")]
    last = {}
    for record in dirty_records[source]:
        last[record.source_file] = record
    assert cut and all(last[name].reason == "truncated object" for name in cut)


def test_customer_lines_of_one_file_end_in_crlf(dirty_lake: tuple) -> None:
    folder = landing_folder(dirty_lake[0], "customer")
    crlf = [p.name for p in folder.iterdir() if p.read_bytes().count(b"\r\n") > 0]
    assert len(crlf) == 1


@pytest.mark.parametrize(("source", "spelling"), [("accelerometer", "timeStamp"),
                                                  ("step_trainer", "SerialNumber")])
def test_a_whole_file_spells_a_key_differently_and_is_accepted(dirty_records: dict, source: str,
                                                               spelling: str) -> None:
    standard = f'"{spelling.lower()}":' if source == "accelerometer" else '"serialNumber":'
    respelled = [r for r in dirty_records[source]
                 if f'"{spelling}":' in r.text and standard not in r.text]
    assert len(respelled) > 10
    assert all(r.reason is None for r in respelled)
    assert len({r.source_file for r in respelled}) == 1


def test_numbers_written_as_strings_are_accepted(dirty_records: dict) -> None:
    quoted = [r for r in dirty_records["accelerometer"]
              if re.search(r'"timestamp":\s*"[0-9]+"', r.text, re.IGNORECASE)]
    assert quoted and all(r.reason is None for r in quoted)


def test_dirty_customers_still_withdraw_consent_in_a_later_record(dirty_records: dict) -> None:
    email, updated, research = (list(LANDING_COLUMNS["customer"]).index(c)
                                for c in ("email", "lastUpdateDate", "shareWithResearchAsOfDate"))
    history = defaultdict(list)
    for record in dirty_records["customer"]:
        if record.reason is None:
            history[record.values[email]].append(record.values)
    withdrawn = [email for email, rows in history.items()
                 if max(rows, key=lambda r: r[updated])[research] is None
                 and any(r[research] is not None for r in rows)]
    assert withdrawn


def test_thirty_serials_shared_by_nearly_all_customers_at_scale_one(tmp_path: Path) -> None:
    generate(tmp_path, scale=1, dirty=True)
    emails_per_serial = defaultdict(set)
    for record in read_source(tmp_path, "customer"):
        if record.reason is None:
            emails_per_serial[record.values[4]].add(record.values[1])
    shared = {serial: emails for serial, emails in emails_per_serial.items() if len(emails) > 1}
    assert len(shared) == 30
    assert sum(len(emails) for emails in shared.values()) == 999


def test_step_trainer_readings_carry_the_shared_serials(dirty_records: dict) -> None:
    owners = defaultdict(set)
    for record in dirty_records["customer"]:
        if record.reason is None:
            owners[record.values[4]].add(record.values[1])
    shared = {serial for serial, emails in owners.items() if len(emails) > 1}
    read_serials = {r.values[1] for r in dirty_records["step_trainer"] if r.reason is None}
    assert shared and read_serials & set(owners) == shared


@pytest.mark.parametrize("rate", [0.02, 0.2])
def test_dirty_rate_sets_the_share_of_defective_lines(tmp_path: Path, rate: float) -> None:
    written = generate(tmp_path, scale=0.1, dirty=True, dirty_rate=rate)
    quarantined = summarize(read_source(tmp_path, "accelerometer"))["quarantined"]
    # Half the record defect kinds are unreadable extra lines.
    assert rate / 3 <= quarantined / written["accelerometer"] <= rate * 2 / 3


def test_manifest_records_the_parameters(dirty_lake: tuple, small_lake: Path) -> None:
    dirty = json.loads(manifest_path(dirty_lake[0]).read_text())
    assert dirty["parameters"] == {"scale": DIRTY_SCALE, "seed": 42, "files_per_source": 4,
                                   "dirty": True, "dirty_rate": 0.02, "fleet_clocks": 0}
    assert list(dirty["defects"]) == list(pipeline.SOURCES)
    assert dirty["shared_serials"] == {"serials": 5, "customers": 10}
    clean = json.loads(manifest_path(small_lake).read_text())
    assert (clean["parameters"]["dirty"], clean["defects"], clean["shared_serials"]) == (
        False, None, None)


def test_cli_writes_dirty_data(tmp_path: Path) -> None:
    result = run_cli("--lake", str(tmp_path), "--scale", "0.01", "--dirty", "--dirty-rate", "0.1")
    assert result.returncode == 0, result.stderr
    assert "record defects" in result.stdout and "dirty rate 0.1" in result.stdout
    assert json.loads(manifest_path(tmp_path).read_text())["parameters"]["dirty_rate"] == 0.1


def reading_schedules(lake: Path) -> dict[str, frozenset[int]]:
    """Each step trainer's set of reading times, by serial number."""
    times: dict[str, set[int]] = {}
    for path in sorted((lake / "step_trainer" / "landing").glob("*.json")):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            times.setdefault(record["serialNumber"], set()).add(record["sensorReadingTime"])
    return {serial: frozenset(readings) for serial, readings in times.items()}


def test_a_fleet_samples_on_its_shared_clocks(tmp_path: Path) -> None:
    result = run_cli("--lake", str(tmp_path), "--scale", "0.3", "--fleet", "30")
    assert result.returncode == 0, result.stderr
    assert "30 fleet clocks" in result.stdout
    schedules = reading_schedules(tmp_path)
    # About 300 devices on 30 clocks: every device reads when about 9 others do.
    assert len(set(schedules.values())) == 30
    assert len(schedules) > 250
    assert json.loads(manifest_path(tmp_path).read_text())["parameters"]["fleet_clocks"] == 30


def test_without_a_fleet_every_device_keeps_a_clock_of_its_own(small_lake: Path) -> None:
    schedules = reading_schedules(small_lake)
    # Only the few pairs whose first readings share instants (SHARED_TIMES_PAIR_SHARE) overlap.
    assert len(set(schedules.values())) == len(schedules)
