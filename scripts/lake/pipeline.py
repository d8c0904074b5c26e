"""The one definition of the STEDI pipeline: its tables, its Glue jobs and their order.

The local runner, the deploy tool, the DDL tools and the workflow picture all read this module;
nothing else keeps a list of jobs or tables. The Glue scripts themselves cannot import it (they
are uploaded to Glue as single files), so a test checks that each script's own SOURCES/TARGET
constants agree with what is declared here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CONSENT_MODES = ("registered", "since_consent")
ML_MATCHES = ("device", "timestamp")
DEFAULT_DATABASE = "stedi"
DEFAULT_CONSENT_MODE = "registered"
DEFAULT_ML_MATCH = "device"

SOURCES = ("customer", "accelerometer", "step_trainer")


def job_options(database: str = DEFAULT_DATABASE, consent_mode: str = DEFAULT_CONSENT_MODE,
                ml_match: str = DEFAULT_ML_MATCH, dq_override: bool = False) -> dict[str, str]:
    """The options every Glue job takes besides JOB_NAME and lake_root, by name
    (docs/design.md, "Job options"); --dq_override only when the gates are overridden
    (docs/design.md, "Data-quality gates")."""
    return {"database": database, "consent_mode": consent_mode, "ml_match": ml_match,
            **({"dq_override": "true"} if dq_override else {})}


def accounting_path(source: str) -> str:
    """Where a landing job writes the record accounting of ``source`` (accepted and quarantined
    records), relative to the lake root: beside the quarantine folder."""
    return f"{source}/landing_accounting.json"

# Landing schemas of docs/design.md, "Landing schemas", in its field order (also the column
# order of every reader), with the Athena/Spark type names. The one copy in scripts/: the DuckDB
# and landing references derive theirs from it.
LANDING_SCHEMAS: dict[str, dict[str, str]] = {
    "customer": {
        "customerName": "string",
        "email": "string",
        "phone": "string",
        "birthDay": "string",
        "serialNumber": "string",
        "registrationDate": "bigint",
        "lastUpdateDate": "bigint",
        "shareWithResearchAsOfDate": "bigint",
        "shareWithPublicAsOfDate": "bigint",
        "shareWithFriendsAsOfDate": "bigint",
    },
    "accelerometer": {
        "user": "string",
        "timestamp": "bigint",
        "x": "double",
        "y": "double",
        "z": "double",
    },
    "step_trainer": {
        "sensorReadingTime": "bigint",
        "serialNumber": "string",
        "distanceFromObject": "int",
    },
}

# Fields without which a landing record identifies nothing, in schema order; a record lacking
# one is quarantined rather than carried as a row that no zone rule can place.
KEY_FIELDS: dict[str, tuple[str, ...]] = {
    "customer": ("email",),
    "accelerometer": ("user", "timestamp"),
    "step_trainer": ("sensorReadingTime", "serialNumber"),
}


@dataclass(frozen=True)
class Table:
    """A Glue catalog table and where its files live under the lake root."""

    name: str
    source: str
    zone: str
    grain: str

    @property
    def path(self) -> str:
        """Location relative to the lake root, e.g. ``customer/trusted``."""
        return f"{self.source}/{self.zone}"

    @property
    def is_landing(self) -> bool:
        return self.zone == "landing"

    def location(self, lake_root: str | Path) -> str:
        """Absolute location: ``s3://bucket/customer/trusted`` or ``/dir/customer/trusted``."""
        return f"{str(lake_root).rstrip('/')}/{self.path}"


@dataclass(frozen=True)
class GlueJob:
    """One Glue script: which tables it reads and the one table it writes."""

    name: str
    inputs: tuple[str, ...]
    output: str
    description: str
    # Whether the job takes --device_key: where the key of the pseudonymous device ids is
    # (a key file locally, an SSM parameter on AWS), so that only the job needing it is told.
    reads_device_key: bool = False

    @property
    def script(self) -> str:
        """Path of the script relative to the repository root."""
        return f"glue_jobs/{self.name}.py"


TABLES: tuple[Table, ...] = (
    Table("customer_landing", "customer", "landing",
          "one row per customer record as exported by the website (an email may repeat)"),
    Table("accelerometer_landing", "accelerometer", "landing",
          "one row per accelerometer reading from the mobile app"),
    Table("step_trainer_landing", "step_trainer", "landing",
          "one row per step trainer distance reading"),
    Table("customer_trusted", "customer", "trusted",
          "one row per email (key: email): latest record of customers who consented to research"),
    Table("accelerometer_trusted", "accelerometer", "trusted",
          "one row per distinct reading (user, timestamp, x, y, z) of a trusted customer"),
    Table("customer_curated", "customer", "curated",
          "one row per email (key: email): trusted customers with accelerometer readings"),
    Table("step_trainer_trusted", "step_trainer", "trusted",
          "one row per distinct reading (sensorReadingTime, serialNumber, distanceFromObject) "
          "of a curated customer's device"),
    Table("machine_learning_curated", "step_trainer", "curated",
          "one row per pair of a step trainer reading and an accelerometer reading taken at the "
          "same time; pseudonymous: no personal column, the device by a keyed hash"),
)

# The records each landing job rejected, with their reason and place (docs/design.md, "Bad input"):
# catalog tables too, so that they can be queried in Athena as locally. Not zones: no job reads
# them, and the run report counts them from the jobs' accounting.
QUARANTINE_TABLES: tuple[Table, ...] = tuple(
    Table(f"{source}_quarantine", source, "quarantine",
          f"one row per {source.replace('_', ' ')} landing record the landing job rejected")
    for source in SOURCES)
# Every rule of every data-quality gate the jobs evaluated, passed or failed (docs/design.md,
# "Data-quality gates"): each job appends its gates' results before it acts on them, so a failed
# run leaves its reasons here too. A log, not a zone: no job reads it, none rewrites it.
DATA_QUALITY_TABLE = Table("data_quality_results", "data_quality", "results",
                           "one row per rule of each data-quality gate a job evaluated")
# Every table of the Glue catalog, each with a file of athena_ddl/.
CATALOG_TABLES: tuple[Table, ...] = TABLES + QUARANTINE_TABLES + (DATA_QUALITY_TABLE,)

JOBS: tuple[GlueJob, ...] = (
    GlueJob("customer_landing_to_trusted", ("customer_landing",), "customer_trusted",
            "Latest record per email, research consent only"),
    GlueJob("accelerometer_landing_to_trusted", ("accelerometer_landing", "customer_trusted"),
            "accelerometer_trusted", "Readings of consenting customers"),
    GlueJob("customer_trusted_to_curated", ("customer_trusted", "accelerometer_trusted"),
            "customer_curated", "Consenting customers who have readings"),
    GlueJob("step_trainer_trusted", ("step_trainer_landing", "customer_curated"),
            "step_trainer_trusted", "Step trainer readings of curated customers' devices"),
    GlueJob("machine_learning_curated",
            ("step_trainer_trusted", "accelerometer_trusted", "customer_curated"),
            "machine_learning_curated", "Step trainer and phone readings paired in time",
            reads_device_key=True),
)


def table(name: str) -> Table:
    """The table called ``name``; KeyError names the known tables."""
    for candidate in TABLES:
        if candidate.name == name:
            return candidate
    raise KeyError(f"unknown table {name!r}; known: {', '.join(t.name for t in TABLES)}")


def job(name: str) -> GlueJob:
    """The job called ``name``; KeyError names the known jobs."""
    for candidate in JOBS:
        if candidate.name == name:
            return candidate
    raise KeyError(f"unknown job {name!r}; known: {', '.join(j.name for j in JOBS)}")


def landing_tables() -> tuple[Table, ...]:
    return tuple(t for t in TABLES if t.is_landing)


def landing_table(source: str) -> Table:
    """The landing table of ``source``; KeyError names the known sources."""
    for candidate in landing_tables():
        if candidate.source == source:
            return candidate
    raise KeyError(f"unknown source {source!r}; known: {', '.join(SOURCES)}")


def landing_job(source: str) -> GlueJob:
    """The job that reads the landing table of ``source`` (and quarantines its bad records)."""
    return next(j for j in JOBS if landing_table(source).name in j.inputs)


def output_tables() -> tuple[Table, ...]:
    """The tables the jobs write, in the order the jobs run."""
    return tuple(table(j.output) for j in JOBS)


def dependency_order(jobs: tuple[GlueJob, ...] = JOBS) -> tuple[GlueJob, ...]:
    """Jobs sorted so that each runs after the jobs producing its inputs (stable, Kahn's algorithm).

    Raises ValueError on a cycle or on an input no job or landing table provides.
    """
    produced_by = {j.output: j.name for j in jobs}
    landing = {t.name for t in landing_tables()}
    for j in jobs:
        unknown = [i for i in j.inputs if i not in produced_by and i not in landing]
        if unknown:
            raise ValueError(f"job {j.name} reads {unknown}, which nothing produces")
    done: set[str] = set()
    ordered: list[GlueJob] = []
    pending = list(jobs)
    while pending:
        ready = [j for j in pending
                 if all(i in landing or produced_by[i] in done for i in j.inputs)]
        if not ready:
            raise ValueError(f"dependency cycle among {[j.name for j in pending]}")
        for j in ready:
            ordered.append(j)
            done.add(j.name)
            pending.remove(j)
    return tuple(ordered)


def upstream_jobs(name: str) -> tuple[GlueJob, ...]:
    """The jobs whose outputs ``name`` reads (its direct predecessors)."""
    wanted = set(job(name).inputs)
    return tuple(j for j in JOBS if j.output in wanted)
