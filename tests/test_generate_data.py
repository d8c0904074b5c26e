"""Tests of the data generator: shape, size, determinism, the cases the zone rules need, its CLI.

The properties are measured the way the pipeline would see them: with the DuckDB reference
implementation over the generated files.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from scripts import pipeline
from scripts.generate_data import LandingExistsError, generate, landing_folder
from scripts.reference_duckdb import LANDING_COLUMNS, compute_zones, zone_counts

REPO = Path(__file__).resolve().parents[1]
SMALL_SCALE = 0.05
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
    [],
])
def test_cli_mistakes_exit_2_with_one_line(tmp_path: Path, mistake: list[str]) -> None:
    lake_args = ["--lake", str(tmp_path / "lake")] if mistake else []
    result = run_cli(*lake_args, *mistake)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "lake").exists()
