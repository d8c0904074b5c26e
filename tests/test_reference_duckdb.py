"""Tests of the DuckDB reference implementation of the zone rules.

The Udacity test pins every count of docs/design.md, "Expected row counts"; the inline tests pin
one rule each with a handful of rows and the exact rows expected.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from scripts.lake import pipeline
from scripts.reference.landing_python import accepted_rows, read_source, summarize
from scripts.reference.zones_duckdb import LANDING_COLUMNS, ZONE_SQL, compute_zones, zone_counts
from scripts.sample_data.generator import generate

UDACITY = Path(__file__).resolve().parents[2] / "shared/data/udacity-starter"

# docs/design.md, "Expected row counts", one column per option pair.
UDACITY_LANDING = {"customer_landing": 956, "accelerometer_landing": 81273,
                   "step_trainer_landing": 28680}
UDACITY_EXPECTED = {
    ("registered", "device"): {
        **UDACITY_LANDING, "customer_trusted": 482, "accelerometer_trusted": 40981,
        "customer_curated": 482, "step_trainer_trusted": 14460, "machine_learning_curated": 40981},
    ("registered", "timestamp"): {
        **UDACITY_LANDING, "customer_trusted": 482, "accelerometer_trusted": 40981,
        "customer_curated": 482, "step_trainer_trusted": 14460, "machine_learning_curated": 43681},
    ("since_consent", "device"): {
        **UDACITY_LANDING, "customer_trusted": 482, "accelerometer_trusted": 32025,
        "customer_curated": 464, "step_trainer_trusted": 11297, "machine_learning_curated": 32025},
    ("since_consent", "timestamp"): {
        **UDACITY_LANDING, "customer_trusted": 482, "accelerometer_trusted": 32025,
        "customer_curated": 464, "step_trainer_trusted": 11297, "machine_learning_curated": 34253},
}

CUSTOMER_COLUMNS = list(LANDING_COLUMNS["customer"])
ACCELEROMETER_COLUMNS = ["user", "timestamp", "x", "y", "z"]
STEP_TRAINER_COLUMNS = ["sensorReadingTime", "serialNumber", "distanceFromObject"]
ML_COLUMNS = ["sensorReadingTime", "deviceId", "distanceFromObject", "x", "y", "z"]

ANA, BO = "Ana.Demo@example.com", "Bo.Demo@example.com"
ANA_DEVICE = "00000000-0000-4000-8000-00000000000a"
BO_DEVICE = "00000000-0000-4000-8000-00000000000b"
CONSENT = 1_000_000
KEY = bytes(range(32))
# ANA_DEVICE's id under KEY, by `printf <serial> | openssl dgst -sha256 -mac HMAC -macopt
# hexkey:000102...1f`, apart from the reference's own HMAC.
ANA_ID = "811a7cad868d0bbe924af04e9b63e3eb1f75e05ae2a6dc4e3ab1ce77ee2d607a"


def customer(email: str, serial: str, registered: int = CONSENT, updated: int = CONSENT,
             research: int | None = CONSENT, **more) -> dict:
    """A customer landing record; the research consent key is left out when ``research`` is None."""
    record = {"customerName": email.split("@")[0].replace(".", " "), "email": email,
              "phone": "8015550000", "birthDay": "1990-01-01", "serialNumber": serial,
              "registrationDate": registered, "lastUpdateDate": updated, **more}
    if research is not None:
        record["shareWithResearchAsOfDate"] = research
    return record


def reading(user: str, timestamp: int, x: float = 0.0, y: float = 0.0, z: float = 0.0) -> dict:
    return {"user": user, "timestamp": timestamp, "x": x, "y": y, "z": z}


def step(time: int, serial: str, distance: int = 250) -> dict:
    return {"sensorReadingTime": time, "serialNumber": serial, "distanceFromObject": distance}


def customer_row(record: dict) -> tuple:
    """The customer_* table row a landing record becomes (absent fields are null)."""
    return tuple(record.get(column) for column in CUSTOMER_COLUMNS)


def write_lake(root: Path, customers: list[dict], readings: list[dict], steps: list[dict]) -> Path:
    """Write one landing file per source under ``root`` (a lake root) and return ``root``."""
    for source, records in zip(pipeline.SOURCES, (customers, readings, steps)):
        folder = Path(pipeline.landing_table(source).location(root))
        folder.mkdir(parents=True)
        (folder / "part-0001.json").write_text("".join(json.dumps(r) + "\n" for r in records))
    return root


def rows(connection: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    """A table's rows in a fixed order, so that expectations can be plain lists."""
    return connection.execute(f"select * from {table} order by all").fetchall()


def zones(root: Path, customers: list[dict], readings: list[dict], steps: list[dict],
          consent_mode: str = "registered", ml_match: str = "device") -> duckdb.DuckDBPyConnection:
    return compute_zones(write_lake(root, customers, readings, steps), consent_mode, ml_match,
                         device_key=KEY)


@pytest.mark.udacity
@pytest.mark.skipif(not UDACITY.is_dir(), reason=f"Udacity starter data not found at {UDACITY}")
@pytest.mark.parametrize(("consent_mode", "ml_match"), list(UDACITY_EXPECTED))
def test_udacity_counts_match_design(consent_mode: str, ml_match: str) -> None:
    expected = UDACITY_EXPECTED[(consent_mode, ml_match)]
    assert zone_counts(UDACITY, consent_mode, ml_match) == expected


def test_rules_cover_exactly_the_pipeline_outputs() -> None:
    assert list(ZONE_SQL) == [t.name for t in pipeline.output_tables()]


def test_every_table_has_the_design_columns_in_order(tmp_path: Path) -> None:
    connection = zones(tmp_path, [customer(ANA, ANA_DEVICE)], [reading(ANA, 5)],
                       [step(5, ANA_DEVICE)])
    columns = {t.name: [c[0] for c in connection.execute(f"select * from {t.name}").description]
               for t in pipeline.TABLES}
    assert columns == {
        "customer_landing": CUSTOMER_COLUMNS, "accelerometer_landing": ACCELEROMETER_COLUMNS,
        "step_trainer_landing": STEP_TRAINER_COLUMNS, "customer_trusted": CUSTOMER_COLUMNS,
        "accelerometer_trusted": ACCELEROMETER_COLUMNS, "customer_curated": CUSTOMER_COLUMNS,
        "step_trainer_trusted": STEP_TRAINER_COLUMNS, "machine_learning_curated": ML_COLUMNS}


@pytest.mark.parametrize(("consent_mode", "ml_match", "named"), [
    ("always", "device", "registered, since_consent"),
    ("registered", "serial", "device, timestamp"),
])
def test_unknown_option_lists_allowed_values(tmp_path: Path, consent_mode: str, ml_match: str,
                                             named: str) -> None:
    with pytest.raises(ValueError, match=named):
        compute_zones(tmp_path, consent_mode, ml_match)


def test_missing_landing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="customer/landing"):
        compute_zones(tmp_path)


def test_latest_record_per_email_wins_and_withdraws_consent(tmp_path: Path) -> None:
    consented = customer(ANA, ANA_DEVICE, updated=10)
    withdrawn = customer(ANA, ANA_DEVICE, updated=20, research=None)
    connection = zones(tmp_path, [withdrawn, consented], [], [])
    assert rows(connection, "customer_trusted") == []


def test_latest_record_per_email_grants_consent(tmp_path: Path) -> None:
    refused = customer(BO, BO_DEVICE, updated=10, research=None)
    granted = customer(BO, BO_DEVICE, updated=20, research=15, shareWithPublicAsOfDate=15)
    connection = zones(tmp_path, [granted, refused], [], [])
    assert rows(connection, "customer_trusted") == [customer_row(granted)]


def test_explicit_null_consent_counts_as_no_consent(tmp_path: Path) -> None:
    explicit_null = {**customer(ANA, ANA_DEVICE, research=None), "shareWithResearchAsOfDate": None}
    connection = zones(tmp_path, [explicit_null, customer(BO, BO_DEVICE)], [], [])
    assert rows(connection, "customer_trusted") == [customer_row(customer(BO, BO_DEVICE))]


def test_registration_date_breaks_a_last_update_tie(tmp_path: Path) -> None:
    earlier = customer(ANA, ANA_DEVICE, registered=5, updated=30, research=None)
    later = customer(ANA, ANA_DEVICE, registered=8, updated=30, research=8)
    connection = zones(tmp_path, [later, earlier], [], [])
    assert rows(connection, "customer_trusted") == [customer_row(later)]


def test_missing_last_update_date_loses_to_a_known_one(tmp_path: Path) -> None:
    dated = customer(ANA, ANA_DEVICE, updated=1)
    undated = {**customer(ANA, ANA_DEVICE, research=None), "lastUpdateDate": None}
    connection = zones(tmp_path, [undated, dated], [], [])
    assert rows(connection, "customer_trusted") == [customer_row(dated)]


def test_accelerometer_trusted_keeps_consenting_users_without_exact_duplicates(
        tmp_path: Path) -> None:
    readings = [reading(ANA, 5, x=1.0), reading(ANA, 5, x=1.0), reading(ANA, 5, x=-1.0),
                reading(BO, 5), reading("Nobody@example.com", 5)]
    customers = [customer(ANA, ANA_DEVICE), customer(BO, BO_DEVICE, research=None)]
    connection = zones(tmp_path, customers, readings, [])
    assert rows(connection, "accelerometer_trusted") == [(ANA, 5, -1.0, 0.0, 0.0),
                                                         (ANA, 5, 1.0, 0.0, 0.0)]


@pytest.mark.parametrize(("consent_mode", "kept"), [
    ("registered", [CONSENT - 1, CONSENT, CONSENT + 1]),
    ("since_consent", [CONSENT, CONSENT + 1]),
])
def test_since_consent_keeps_readings_from_the_consent_instant(
        tmp_path: Path, consent_mode: str, kept: list[int]) -> None:
    times = [CONSENT - 1, CONSENT, CONSENT + 1]
    connection = zones(tmp_path, [customer(ANA, ANA_DEVICE)], [reading(ANA, t) for t in times],
                       [step(t, ANA_DEVICE) for t in times], consent_mode)
    assert rows(connection, "accelerometer_trusted") == [(ANA, t, 0.0, 0.0, 0.0) for t in kept]
    assert rows(connection, "step_trainer_trusted") == [(t, ANA_DEVICE, 250) for t in kept]


def test_customer_curated_needs_a_trusted_reading(tmp_path: Path) -> None:
    connection = zones(tmp_path, [customer(ANA, ANA_DEVICE), customer(BO, BO_DEVICE)],
                       [reading(ANA, CONSENT)], [])
    assert rows(connection, "customer_curated") == [customer_row(customer(ANA, ANA_DEVICE))]


def test_since_consent_drops_customers_whose_readings_all_precede_consent(tmp_path: Path) -> None:
    connection = zones(tmp_path, [customer(ANA, ANA_DEVICE), customer(BO, BO_DEVICE)],
                       [reading(ANA, CONSENT), reading(BO, CONSENT - 1)], [], "since_consent")
    assert rows(connection, "customer_curated") == [customer_row(customer(ANA, ANA_DEVICE))]


def test_step_trainer_trusted_keeps_curated_devices_without_exact_duplicates(
        tmp_path: Path) -> None:
    steps = [step(7, ANA_DEVICE, 230), step(7, ANA_DEVICE, 230), step(8, ANA_DEVICE, 230),
             step(7, BO_DEVICE), step(7, "unknown-device")]
    # Bo consents but has no readings, so is not curated and his device is not trusted.
    connection = zones(tmp_path, [customer(ANA, ANA_DEVICE), customer(BO, BO_DEVICE)],
                       [reading(ANA, 7)], steps)
    assert rows(connection, "step_trainer_trusted") == [(7, ANA_DEVICE, 230), (8, ANA_DEVICE, 230)]


@pytest.mark.parametrize(("ml_match", "expected"), [
    ("device", [(CONSENT, ANA_ID, 250, 1.0, 0.0, 0.0)]),
    ("timestamp", [(CONSENT, ANA_ID, 250, -1.0, 0.0, 0.0),
                   (CONSENT, ANA_ID, 250, 1.0, 0.0, 0.0)]),
])
def test_shared_timestamp_pairs_another_phone_only_in_timestamp_mode(
        tmp_path: Path, ml_match: str, expected: list[tuple]) -> None:
    connection = zones(tmp_path, [customer(ANA, ANA_DEVICE), customer(BO, BO_DEVICE)],
                       [reading(ANA, CONSENT, x=1.0), reading(BO, CONSENT, x=-1.0)],
                       [step(CONSENT, ANA_DEVICE)], ml_match=ml_match)
    assert rows(connection, "machine_learning_curated") == expected


def test_one_step_reading_pairs_once_with_each_reading_at_its_time(tmp_path: Path) -> None:
    readings = [reading(ANA, CONSENT, x=x) for x in (-1.0, 0.0, 1.0)]
    connection = zones(tmp_path, [customer(ANA, ANA_DEVICE)], readings, [step(CONSENT, ANA_DEVICE)])
    assert rows(connection, "machine_learning_curated") == [
        (CONSENT, ANA_ID, 250, x, 0.0, 0.0) for x in (-1.0, 0.0, 1.0)]


def test_device_shared_by_two_customers_does_not_multiply_rows(tmp_path: Path) -> None:
    # Ana and Bo registered the same step trainer: each of their readings pairs with it once.
    customers = [customer(ANA, ANA_DEVICE), customer(BO, ANA_DEVICE)]
    readings = [reading(ANA, CONSENT, x=1.0), reading(BO, CONSENT, x=-1.0)]
    connection = zones(tmp_path, customers, readings, [step(CONSENT, ANA_DEVICE)])
    assert rows(connection, "step_trainer_trusted") == [(CONSENT, ANA_DEVICE, 250)]
    assert rows(connection, "machine_learning_curated") == [
        (CONSENT, ANA_ID, 250, -1.0, 0.0, 0.0), (CONSENT, ANA_ID, 250, 1.0, 0.0, 0.0)]


def test_compute_zones_uses_the_given_connection(tmp_path: Path) -> None:
    given = duckdb.connect()
    write_lake(tmp_path, [customer(ANA, ANA_DEVICE)], [reading(ANA, 5)], [step(5, ANA_DEVICE)])
    assert compute_zones(tmp_path, connection=given) is given
    assert given.execute("select count(*) from machine_learning_curated").fetchone() == (1,)


# --- zones of dirty data, from the records the landing reference accepts -----------------------


def count(connection: duckdb.DuckDBPyConnection, sql: str) -> int:
    return connection.execute(sql).fetchone()[0]


@pytest.fixture(scope="module")
def dirty_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Dirty data with 30 serial numbers shared by all 200 customers."""
    lake = tmp_path_factory.mktemp("dirty_lake")
    generate(lake, scale=0.2, seed=3, dirty=True)
    return lake


@pytest.fixture(scope="module")
def dirty_zones(dirty_lake: Path) -> duckdb.DuckDBPyConnection:
    return compute_zones(dirty_lake, accepted_rows=accepted_rows(dirty_lake))


def test_rows_and_files_give_the_same_zones_on_clean_data(tmp_path: Path) -> None:
    generate(tmp_path, scale=0.05, seed=5)
    from_files = compute_zones(tmp_path)
    from_rows = compute_zones(tmp_path, accepted_rows=accepted_rows(tmp_path))
    for table in pipeline.TABLES:
        assert rows(from_rows, table.name) == rows(from_files, table.name), table.name
    assert count(from_rows, "select count(*) from accelerometer_landing") > 0


def test_given_rows_keep_their_types_and_nulls(tmp_path: Path) -> None:
    big = 2 ** 63 - 1
    given = {"customer": [customer_row(customer(ANA, ANA_DEVICE, research=None))],
             "accelerometer": [(ANA, big, 0.1 + 0.2, None, float("inf"))],
             "step_trainer": []}
    connection = compute_zones(tmp_path, accepted_rows=given)
    assert rows(connection, "customer_landing") == given["customer"]
    assert rows(connection, "accelerometer_landing") == given["accelerometer"]
    assert connection.execute("select typeof(timestamp), typeof(x) from accelerometer_landing"
                              ).fetchone() == ("BIGINT", "DOUBLE")
    assert rows(connection, "step_trainer_landing") == []


def test_dirty_landing_tables_hold_exactly_the_accepted_records(
        dirty_lake: Path, dirty_zones: duckdb.DuckDBPyConnection) -> None:
    for table in pipeline.landing_tables():
        accepted = summarize(read_source(dirty_lake, table.source))["accepted"]
        assert count(dirty_zones, f"select count(*) from {table.name}") == accepted


def test_dirty_data_shares_serials_between_curated_customers(
        dirty_zones: duckdb.DuckDBPyConnection) -> None:
    # Not a test of the rules: proof that the data below exercises the shared-serial trap.
    assert count(dirty_zones, "select count(*) - count(distinct serialNumber) "
                              "from customer_curated") > 0
    assert count(dirty_zones, """
        select count(*) from step_trainer_trusted as s
        inner join customer_curated as c on c.serialNumber = s.serialNumber
    """) > count(dirty_zones, "select count(*) from step_trainer_trusted")


def test_shared_serials_never_duplicate_step_trainer_rows(
        dirty_zones: duckdb.DuckDBPyConnection) -> None:
    assert count(dirty_zones, "select count(*) from step_trainer_trusted") == count(
        dirty_zones, "select count(*) from (select distinct * from step_trainer_trusted)") > 0


def test_device_match_keeps_each_pair_of_readings_once(
        dirty_zones: duckdb.DuckDBPyConnection) -> None:
    # customer_curated has one row per email, so joining through it yields each (step reading,
    # phone reading) pair with an owner in common exactly once.
    assert count(dirty_zones, "select count(*) - count(distinct email) from customer_curated") == 0
    pairs = count(dirty_zones, """
        select count(*)
        from accelerometer_trusted as a
        inner join customer_curated as c on c.email = a.user
        inner join step_trainer_trusted as s
            on s.sensorReadingTime = a.timestamp and s.serialNumber = c.serialNumber
    """)
    assert count(dirty_zones, "select count(*) from machine_learning_curated") == pairs > 0
