"""An independent implementation of the STEDI zone rules in DuckDB SQL.

Written from docs/design.md, "Zone rules", not from the Glue jobs, so that a differential
test can compare the two: if Spark and DuckDB agree on the same landing data, a shared
misunderstanding is the only way both can be wrong. Benchmarks use it as a second engine.

Every catalog table (3 landing, 5 trusted/curated; names from ``scripts.lake.pipeline``) becomes a
DuckDB table of the same name in one connection, so tests and benchmarks can query any zone.
The reference is strict: a landing line that does not fit the schema raises instead of being
quarantined, because a reference that guesses would hide the very differences it exists to find.
For dirty landing data, pass the rows that ``scripts.reference.landing_python`` accepts (an
independent
implementation of the landing acceptance rules) as ``accepted_rows``: the zones are then computed
from exactly those rows.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import duckdb
import numpy as np
from duckdb.sqltypes import VARCHAR

from scripts.lake import local_device_key, pipeline

# DuckDB's names for the landing schema types of ``pipeline.LANDING_SCHEMAS``.
DUCKDB_TYPES = {"string": "varchar", "bigint": "bigint", "int": "integer", "double": "double"}

# Landing schemas in the column order of docs/design.md, "Landing schemas" (which is also the
# output column order).
# Explicit types: DuckDB must never infer a schema from whatever the files happen to contain.
LANDING_COLUMNS: dict[str, dict[str, str]] = {
    source: {name: DUCKDB_TYPES[kind] for name, kind in schema.items()}
    for source, schema in pipeline.LANDING_SCHEMAS.items()
}

# Grain: one row per email (key: email).
CUSTOMER_TRUSTED_SQL = """
with landing as (
    select * from customer_landing
),

keyed as (
    -- a record without an email cannot be the latest record "per email"
    select * from landing where email is not null
),

ranked as (
    select
        keyed.*,
        row_number() over (
            partition by email
            -- the rule is lastUpdateDate, then registrationDate; the remaining columns only make
            -- the choice between otherwise tied records deterministic
            order by
                lastUpdateDate desc nulls last,
                registrationDate desc nulls last,
                shareWithResearchAsOfDate desc nulls last,
                shareWithPublicAsOfDate desc nulls last,
                shareWithFriendsAsOfDate desc nulls last,
                serialNumber desc nulls last,
                customerName desc nulls last,
                phone desc nulls last,
                birthDay desc nulls last
        ) as recency_rank
    from keyed
),

latest as (
    select * exclude (recency_rank) from ranked where recency_rank = 1
),

final as (
    select * from latest where shareWithResearchAsOfDate is not null
)

select * from final
"""

# Grain: one row per distinct reading (user, timestamp, x, y, z) of a trusted customer.
ACCELEROMETER_TRUSTED_SQL = """
with readings as (
    select * from accelerometer_landing
),

consenting as (
    select email, shareWithResearchAsOfDate as consent_date from customer_trusted
),

permitted as (
    -- customer_trusted has one row per email, so this join cannot multiply readings
    select readings.user, readings.timestamp, readings.x, readings.y, readings.z
    from readings
    inner join consenting on consenting.email = readings.user
    where not $since_consent or readings.timestamp >= consenting.consent_date
),

final as (
    select distinct user, timestamp, x, y, z from permitted
)

select * from final
"""

# Grain: one row per email (key: email).
CUSTOMER_CURATED_SQL = """
with trusted as (
    select * from customer_trusted
),

with_readings as (
    select trusted.*
    from trusted
    where exists (
        select 1 from accelerometer_trusted as readings where readings.user = trusted.email
    )
),

final as (
    select * from with_readings
)

select * from final
"""

# Grain: one row per distinct reading (sensorReadingTime, serialNumber, distanceFromObject).
STEP_TRAINER_TRUSTED_SQL = """
with readings as (
    select * from step_trainer_landing
),

devices as (
    select serialNumber, shareWithResearchAsOfDate as consent_date from customer_curated
),

permitted as (
    -- existence, not a join: two curated customers sharing a device must not double its readings
    select readings.sensorReadingTime, readings.serialNumber, readings.distanceFromObject
    from readings
    where exists (
        select 1
        from devices
        where devices.serialNumber = readings.serialNumber
          and (not $since_consent or readings.sensorReadingTime >= devices.consent_date)
    )
),

final as (
    select distinct sensorReadingTime, serialNumber, distanceFromObject from permitted
)

select * from final
"""

# Grain: one row per pair of a step trainer reading and an accelerometer reading at the same time.
MACHINE_LEARNING_CURATED_SQL = """
with steps as (
    select * from step_trainer_trusted
),

readings as (
    select * from accelerometer_trusted
),

owners as (
    select email, serialNumber from customer_curated
),

paired as (
    select
        steps.sensorReadingTime,
        steps.serialNumber,
        steps.distanceFromObject,
        readings.user,
        readings.x,
        readings.y,
        readings.z
    from steps
    inner join readings on readings.timestamp = steps.sensorReadingTime
),

owned as (
    -- device mode: the phone and the step trainer must belong to the same curated customer;
    -- an existence test so that a pair is kept once, however many owners match
    select paired.*
    from paired
    where not $match_device or exists (
        select 1
        from owners
        where owners.email = paired.user
          and owners.serialNumber = paired.serialNumber
    )
),

devices as (
    -- the keyed hash once per device: device_id is a Python function, too slow per row
    select serialNumber, device_id(serialNumber) as deviceId
    from (select distinct serialNumber from steps)
),

final as (
    -- pseudonymous: the user's email is dropped here, the serial number becomes the keyed hash
    select owned.sensorReadingTime, devices.deviceId, owned.distanceFromObject,
        owned.x, owned.y, owned.z
    from owned
    inner join devices on devices.serialNumber = owned.serialNumber
)

select * from final
"""

ZONE_SQL: dict[str, str] = {
    "customer_trusted": CUSTOMER_TRUSTED_SQL,
    "accelerometer_trusted": ACCELEROMETER_TRUSTED_SQL,
    "customer_curated": CUSTOMER_CURATED_SQL,
    "step_trainer_trusted": STEP_TRAINER_TRUSTED_SQL,
    "machine_learning_curated": MACHINE_LEARNING_CURATED_SQL,
}


def validate_options(consent_mode: str, ml_match: str) -> None:
    """Raise ValueError naming the allowed values, before any SQL sees an unknown mode."""
    if consent_mode not in pipeline.CONSENT_MODES:
        raise ValueError(f"consent_mode must be one of {', '.join(pipeline.CONSENT_MODES)}; "
                         f"got {consent_mode!r}")
    if ml_match not in pipeline.ML_MATCHES:
        raise ValueError(f"ml_match must be one of {', '.join(pipeline.ML_MATCHES)}; "
                         f"got {ml_match!r}")


def landing_sql(table: pipeline.Table, landing_root: Path) -> str:
    """The select that reads one landing table's JSON lines with its explicit schema."""
    columns = ", ".join(f"{name}: '{kind}'" for name, kind in LANDING_COLUMNS[table.source].items())
    pattern = f"{table.location(landing_root)}/*.json".replace("'", "''")
    ordered = ", ".join(LANDING_COLUMNS[table.source])
    return (f"select {ordered} from read_json('{pattern}', format = 'newline_delimited', "
            f"columns = {{{columns}}})")


def load_landing(connection: duckdb.DuckDBPyConnection, landing_root: Path) -> None:
    """Materialise the three landing tables, failing with the folder name if one has no files."""
    for table in pipeline.landing_tables():
        folder = Path(table.location(landing_root))
        if not any(folder.glob("*.json")):
            raise FileNotFoundError(f"no landing files (*.json) in {folder}")
        connection.execute(
            f"create or replace table {table.name} as {landing_sql(table, landing_root)}")


def load_landing_rows(connection: duckdb.DuckDBPyConnection,
                      rows: dict[str, list[tuple]]) -> None:
    """Materialise the three landing tables from rows in schema order (None = null).

    For records that a lenient reader accepted from files ``read_json`` would refuse. Python
    object columns reach DuckDB as text, so every column is cast back to its schema type;
    ints and floats survive that round trip exactly (their text is Python's repr).
    """
    for table in pipeline.landing_tables():
        columns = LANDING_COLUMNS[table.source]
        values = list(zip(*rows[table.source])) or [()] * len(columns)
        view = f"{table.name}_rows"
        connection.register(view, {name: np.array(column, dtype=object)
                                   for name, column in zip(columns, values)})
        typed = ", ".join(f'cast("{name}" as {kind}) as "{name}"'
                          for name, kind in columns.items())
        connection.execute(f"create or replace table {table.name} as select {typed} from {view}")
        connection.unregister(view)


def register_device_id(connection: duckdb.DuckDBPyConnection, device_key: bytes) -> None:
    """``device_id(serialNumber)`` in SQL: the hex HMAC-SHA256 of the serial number's UTF-8
    bytes under ``device_key`` (docs/design.md, "Zone rules": a keyed hash of serialNumber)."""
    def device_id(serial_number: str) -> str:
        return hmac.new(device_key, serial_number.encode(), hashlib.sha256).hexdigest()

    try:
        connection.remove_function("device_id")
    except duckdb.InvalidInputException:  # not registered on this connection yet
        pass
    connection.create_function("device_id", device_id, [VARCHAR], VARCHAR,
                               null_handling="default")


def statement_parameters(sql: str, options: dict[str, bool]) -> dict[str, bool]:
    """The options a statement mentions: DuckDB rejects parameters that a statement does not use."""
    return {name: value for name, value in options.items() if f"${name}" in sql}


def compute_zones(landing_root: Path, consent_mode: str = pipeline.DEFAULT_CONSENT_MODE,
                  ml_match: str = pipeline.DEFAULT_ML_MATCH,
                  connection: duckdb.DuckDBPyConnection | None = None,
                  accepted_rows: dict[str, list[tuple]] | None = None,
                  device_key: bytes | None = None,
                  ) -> duckdb.DuckDBPyConnection:
    """Build all eight catalog tables from ``<landing_root>/<source>/landing/*.json``.

    Parameters
    ----------
    landing_root
        A lake root (the folder holding ``customer/``, ``accelerometer/``, ``step_trainer/``).
    consent_mode, ml_match
        The job options of docs/design.md, "Job options"; ValueError lists the allowed values.
    connection
        Where to create the tables (replacing same-named ones); a new in-memory database
        (without a progress bar) if None.
    accepted_rows
        Landing rows per source in schema order, e.g. ``landing_python.accepted_rows(lake)``
        for dirty data; when given, the landing files are not read.
    device_key
        The key of the device ids; the local runs' key file (made if missing) if None, as the
        local runner uses it.

    Returns
    -------
    The connection, holding one table per catalog table name.
    """
    validate_options(consent_mode, ml_match)
    if connection is None:
        connection = duckdb.connect()
        # A progress bar on stderr would litter test and benchmark output.
        connection.execute("set enable_progress_bar = false")
    if accepted_rows is None:
        load_landing(connection, Path(landing_root))
    else:
        load_landing_rows(connection, accepted_rows)
    if device_key is None:
        device_key = local_device_key.key_of(local_device_key.default_key_file())
    register_device_id(connection, device_key)
    options = {"since_consent": consent_mode == "since_consent",
               "match_device": ml_match == "device"}
    for table in pipeline.output_tables():
        sql = ZONE_SQL[table.name]
        connection.execute(f"create or replace table {table.name} as {sql}",
                           statement_parameters(sql, options))
    return connection


def zone_counts(landing_root: Path, consent_mode: str = pipeline.DEFAULT_CONSENT_MODE,
                ml_match: str = pipeline.DEFAULT_ML_MATCH,
                connection: duckdb.DuckDBPyConnection | None = None,
                accepted_rows: dict[str, list[tuple]] | None = None) -> dict[str, int]:
    """Row counts of all eight catalog tables, in ``pipeline.TABLES`` order."""
    zones = compute_zones(landing_root, consent_mode, ml_match, connection, accepted_rows,
                          device_key=bytes(32))  # counts do not depend on the key
    return {table.name: zones.execute(f"select count(*) from {table.name}").fetchone()[0]
            for table in pipeline.TABLES}
