"""Forgetting one customer, whatever the lake: landing, quarantine and every zone (GDPR art. 17).

The customer's landing records are removed from the landing files (scripts/erasure/
landing_records.py says which), every other line staying byte for byte as it was; then all
five jobs run again, which rebuilds the quarantine and every zone from the landing data that is
left, exactly as a fresh run without the customer would. Last, a proof: for every catalog table,
the rows that still match the email, the customer's serial numbers or their device ids, which
must be 0, as queries to re-run with `make query` (or in Athena).

An erasure record goes to ``_reports/erasures/``: a keyed hash of the email (HMAC-SHA256 under
the device-id key, so that nobody without the key can test an email against it), the time and
the counts; never the email. Interrupted half-way, a run with the same email finishes the job:
each landing file is replaced in one step, the customer's own records last (they tell which
serial numbers are the customer's), and a pending record under ``_reports/erasures/pending/``
keeps what is needed to finish, among it the serial numbers; it is removed when the erasure is
complete. The lake is a folder (local_lake.py) or a deployed bucket (bucket_lake.py).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from glue_jobs.shared.device_key import device_id
from scripts._cli.errors import CliError
from scripts._cli.text_table import SECTION_BREAK, box_table
from scripts.erasure import landing_records
from scripts.erasure.landing_records import Removal
from scripts.lake import pipeline
from scripts.lake.query_engine import sql_string

ERASURES = "_reports/erasures"
PENDING = f"{ERASURES}/pending"


class Lake(Protocol):
    """What the erasure needs of a lake, the same for a folder and for a bucket."""

    description: str
    proof_hint: str

    def landing_files(self, source: str) -> list[str]: ...
    def read(self, key: str) -> bytes: ...
    def replace(self, key: str, data: bytes) -> None: ...
    def read_json(self, key: str) -> dict | None: ...
    def write_json(self, key: str, value: dict) -> None: ...
    def delete(self, key: str) -> None: ...
    def zone_counts(self) -> dict[str, int] | None: ...
    def run_jobs(self) -> dict[str, int]: ...
    def count_rows(self, sql: str) -> int: ...
    def device_key(self) -> bytes: ...
    def files_mentioning(self, values: list[str]) -> list[str] | None: ...
    def query_command(self, sql: str) -> str: ...


def subject_hash(device_key: bytes, email: str) -> str:
    """The erasure record's name for the customer: HMAC-SHA256 of the email under the device
    key, apart from the device ids by a prefix of its own (no device id can equal it)."""
    return hmac.new(device_key, b"erasure\0" + email.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Customer:
    """The customer to forget, as the customer landing files tell."""

    email: str
    serials: frozenset[str]  # the customer's own serial numbers: their readings go
    shared_serials: frozenset[str]  # named by other customers too: their readings stay


def find_customer(lake: Lake, email: str, known_serials: frozenset[str] = frozenset()
                  ) -> Customer:
    """The customer's serial numbers, from the customer landing files; ``known_serials`` are
    those an interrupted run found, whose customer records may be gone already."""
    own, shared = landing_records.customer_serials(
        (lake.read(key) for key in lake.landing_files("customer")), email)
    return Customer(email, frozenset(own | (known_serials - shared)), frozenset(shared))


def changed_files(lake: Lake, customer: Customer) -> Iterator[tuple[str, str, Removal]]:
    """(landing file, source, removal) of every file the customer has records in, in
    landing_records.REWRITE_ORDER. One file at a time: it is read when the one before is dealt with,
    so no more than one file and its rewrite are held in memory. (The customer files are read
    a second time here; they are the small ones.)"""
    for source in landing_records.REWRITE_ORDER:
        for key in lake.landing_files(source):
            removal = landing_records.without_customer(lake.read(key), source, customer.email,
                                               customer.serials)
            if removal.changed:
                yield key, source, removal


def file_counts(source: str, removal: Removal) -> dict:
    """What the journal keeps of one changed landing file."""
    return {"source": source, "removed": removal.removed, "quarantined": removal.quarantined}


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def proof_queries(email: str, serials: frozenset[str], device_ids: list[str]
                  ) -> dict[str, str]:
    """Per catalog table, the Athena query counting the rows still about the customer."""
    def any_of(column: str, values: list[str]) -> str:
        return f"{column} in ({', '.join(sql_string(v) for v in sorted(values))})"

    def mentioning(values: list[str]) -> str:
        # The quarantine keeps records as text: look for the value as a JSON string.
        return " or ".join(f"strpos(record, {sql_string(json.dumps(v, ensure_ascii=False))}) > 0"
                           for v in sorted(values))

    by_email = f"email = {sql_string(email)}"
    by_user = f'"user" = {sql_string(email)}'
    where = {"customer_landing": by_email, "customer_trusted": by_email,
             "customer_curated": by_email, "accelerometer_landing": by_user,
             "accelerometer_trusted": by_user,
             "customer_quarantine": mentioning([email]),
             "accelerometer_quarantine": mentioning([email])}
    if serials:
        where |= {"step_trainer_landing": any_of("serialNumber", list(serials)),
                  "step_trainer_trusted": any_of("serialNumber", list(serials)),
                  "step_trainer_quarantine": mentioning(list(serials)),
                  "machine_learning_curated": any_of("deviceId", device_ids)}
    return {table.name: f"select count(*) from {table.name} where {where[table.name]}"
            for table in pipeline.CATALOG_TABLES if table.name in where}


def removal_table(journal: dict, zones_after: dict[str, int] | None) -> str:
    """Per table: the records the landing files lost, the quarantined ones among them, and
    every zone's rows before and after."""
    landing = journal["landing_records_removed"]
    quarantined = journal["quarantined_records_removed"]
    before = journal.get("zone_rows_before") or {}
    rows = [(t.name, f"{landing[t.source]:,} records") for t in pipeline.landing_tables()]
    rows += [(f"{source}_quarantine", f"{quarantined[source]:,} records")
             for source in pipeline.SOURCES]
    rows.append(SECTION_BREAK)
    for table in pipeline.output_tables():
        if table.name in before and zones_after and table.name in zones_after:
            removed = before[table.name] - zones_after[table.name]
            rows.append((table.name, f"{removed:,} rows ({before[table.name]:,} → "
                                     f"{zones_after[table.name]:,})"))
        else:
            rows.append((table.name, "not built yet"))
    return box_table(("table", "removed"), rows)


def new_journal(subject: str, customer: Customer, zones_before: dict[str, int] | None
                ) -> dict:
    return {"subject": f"hmac-sha256:{subject}", "started_at": now(), "status": "pending",
            # Needed to finish after an interruption, once the customer records that name them
            # are gone; the pending record is deleted when the erasure is complete.
            "serial_numbers": sorted(customer.serials),
            "shared_serial_numbers_kept": len(customer.shared_serials),
            "files": {}, "zone_rows_before": zones_before}


def landing_totals(files: dict[str, dict]) -> dict[str, dict[str, int]]:
    """Per-source totals of the per-file counts: landing_records_removed and
    quarantined_records_removed."""
    totals = {name: {source: 0 for source in pipeline.SOURCES}
              for name in ("landing_records_removed", "quarantined_records_removed")}
    for counts in files.values():
        totals["landing_records_removed"][counts["source"]] += counts["removed"]
        totals["quarantined_records_removed"][counts["source"]] += counts["quarantined"]
    return totals


def print_plan(files: dict[str, dict], customer: Customer, lake: Lake) -> None:
    totals = landing_totals(files)
    rows = [(pipeline.landing_table(s).name,
             f"{totals['landing_records_removed'][s]:,} records "
             f"({totals['quarantined_records_removed'][s]:,} of them quarantined)")
            for s in pipeline.SOURCES]
    print(box_table(("table", "would remove"), rows))
    print(f"{len(files)} landing files of {lake.description} would change; "
          f"{len(customer.serials)} serial numbers are the customer's alone, "
          f"{len(customer.shared_serials)} shared with other customers would be kept; "
          "then every job would run again. Nothing was changed (--dry-run).")


def nothing_to_forget(email: str, lake: Lake) -> None:
    print(f"nothing to forget: no landing record of {email} in {lake.description}")


def forget(lake: Lake, email: str, dry_run: bool = False) -> dict | None:
    """Erase the customer; the erasure record, or None when there was nothing to forget."""
    device_key = lake.device_key()
    subject = subject_hash(device_key, email)
    pending_key = f"{PENDING}/{subject}.json"
    journal = lake.read_json(pending_key)
    customer = find_customer(lake, email, frozenset(journal["serial_numbers"]) if journal
                             else frozenset())
    if dry_run:
        files = {key: file_counts(source, removal)
                 for key, source, removal in changed_files(lake, customer)}
        if not files and journal is None:
            nothing_to_forget(email, lake)
            return None
        if journal:
            print("an erasure of this customer was interrupted; run without --dry-run to "
                  "finish it")
        print_plan(files, customer, lake)
        return None

    if journal:
        print(f"finishing the erasure begun at {journal['started_at']}")
    for key, source, removal in changed_files(lake, customer):
        if journal is None:  # the first file of a new erasure: the pending record begins
            journal = new_journal(subject, customer, lake.zone_counts())
        journal["files"][key] = file_counts(source, removal)
        lake.write_json(pending_key, journal)
        lake.replace(key, removal.data)
    if journal is None:
        nothing_to_forget(email, lake)
        return None
    if customer.shared_serials:
        print(f"kept: the readings of {len(customer.shared_serials)} serial numbers that "
              "other customers' records name too")
    journal |= landing_totals(journal["files"])
    lake.write_json(pending_key, journal)
    built = journal["zone_rows_before"] is not None
    print(f"removed the customer's records from {len(journal['files'])} landing files; "
          + ("running every job again" if built else "no zones to rebuild (no run yet)"))

    zones_after = lake.run_jobs() if built else None
    serials = frozenset(journal["serial_numbers"])
    queries = proof_queries(email, serials, [device_id(device_key, s) for s in serials])
    proof = {table: lake.count_rows(sql) for table, sql in queries.items()}
    print(removal_table(journal, zones_after))
    print(box_table(("table", "rows still about the customer"),
                    [(table, f"{count:,}") for table, count in proof.items()]))
    left = [table for table, count in proof.items() if count]
    mentioned = lake.files_mentioning([email, *serials])
    if mentioned is not None:
        print(f"files of the lake holding the email or the serial numbers as text (Parquet is "
              f"read by the queries above): {len(mentioned)}")
    if left or mentioned:
        raise CliError(f"the customer is still in {', '.join(left + (mentioned or []))}; the "
                       f"pending erasure record {pending_key} stays: run the same command "
                       "again")
    print(f"re-run the proof (each must count 0) {lake.proof_hint}:")
    for sql in queries.values():
        print(f"  {lake.query_command(sql)}")

    record = {key: value for key, value in journal.items()
              if key not in ("serial_numbers", "files", "status")}
    record |= {"completed_at": now(), "landing_files_changed": len(journal["files"]),
               "serial_numbers_removed": len(serials), "zone_rows_after": zones_after,
               "proof_rows_left": proof,
               "text_files_mentioning": None if mentioned is None else len(mentioned)}
    record_key = f"{ERASURES}/{record['completed_at'].replace(':', '')}-{subject[:16]}.json"
    lake.write_json(record_key, record)
    lake.delete(pending_key)
    print(f"erasure record: {lake.description}/{record_key} (no email in it: the subject is a "
          "keyed hash)")
    return record
