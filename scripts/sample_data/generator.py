"""Generate the embedded default data set: STEDI-shaped landing JSON lines, at any scale.

The Udacity starter data cannot ship with the project (license), and it has few of the awkward
cases the zone rules exist for. This generator writes data of the same shape and types, with fake
people, where every rule changes the result: repeated emails whose latest record withdraws or
grants consent, consent given in the middle of (or after) a customer's readings, exact duplicate
rows, timestamps shared between customers, readings of unknown users and devices, and consenting
customers who never used their device. Scale 1 is about the Udacity size; sizes grow linearly.

With ``fleet_clocks`` (``--fleet``), devices sample on that many shared clocks, as a fleet on one
clock does: every instant is then shared by about people / fleet_clocks devices.

With ``--dirty``, the files also carry the defects of real exports (``scripts.sample_data.defects``)
and nearly all customers share one of 30 serial numbers.

The command is ``python -m scripts.generate_data``. Output is byte-identical for the same
parameters; ``<lake>/_generator/manifest.json`` records them.
"""

from __future__ import annotations

import json
import math
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from scripts.lake import pipeline
from scripts.sample_data.defects import DefectPlan, plan_defects, share_count, shared_serials

MIN_SCALE = 0.01
PEOPLE_PER_SCALE = 1000
READING_TIMES_PER_PERSON = 30
# How many phone readings share one reading time (the Udacity data has mostly 3).
PHONE_READINGS_PER_TIME = (1, 2, 3)
PHONE_READINGS_PROBABILITIES = (0.05, 0.20, 0.75)
STEP_DISTANCE_RANGE = (200, 301)
READING_GAP_MS = (1_000, 5_000)
# Readings start within this window per scale unit (the Udacity data spans about 45 minutes),
# so that timestamp collisions between customers stay as frequent as at scale 1.
WINDOW_MS_PER_SCALE = 45 * 60 * 1000
FIRST_DAY_MS = 1_717_200_000_000  # 2024-06-01T00:00:00Z
DAY_MS = 24 * 60 * 60 * 1000

# Shares of people with each property; each applies at least once when there is room for it.
CONSENT_SHARE = 0.5
CONSENT_DURING_USE_SHARE = 0.35  # of consenting people: consent date equals one of their readings
CONSENT_AFTER_USE_SHARE = 0.08  # of consenting people: consent after their last reading
WITHDRAWN_SHARE = 0.03  # a later record withdraws consent
GRANTED_SHARE = 0.03  # a later record grants consent
REREGISTERED_SHARE = 0.01  # a second record with the same lastUpdateDate, earlier registration
SHARED_TIMES_PAIR_SHARE = 0.04  # pairs of consenting people whose readings share timestamps
IDLE_SHARE = 0.02  # consenting people without any readings
UNKNOWN_PEOPLE_SHARE = 0.01  # readings of users and devices missing from the customer data
DUPLICATE_ROW_SHARE = 0.005  # accelerometer and step trainer lines sent twice

NO_CONSENT, AT_SIGNUP, DURING_USE, AFTER_USE = range(4)
NO_HISTORY, WITHDRAWN, GRANTED, REREGISTERED = range(4)

FIRST_NAMES = (
    "Ada", "Ben", "Cleo", "Dev", "Elena", "Farid", "Gail", "Hiro", "Ines", "Jonas", "Kofi", "Lena",
    "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tara", "Uma", "Victor", "Wen",
    "Ximena", "Yusuf", "Zoe",
)
LAST_NAMES = (
    "Abbott", "Baker", "Castillo", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito",
    "Jansen", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Quintero",
    "Rossi", "Silva", "Tanaka", "Umar", "Varga", "Wagner", "Xu", "Yilmaz", "Zeller",
)
ROWS_PER_WRITE = 100_000
DEFAULT_DIRTY_RATE = 0.02


class LandingExistsError(FileExistsError):
    """The lake already has landing files that a run without ``overwrite`` must not touch."""


@dataclass(frozen=True)
class People:
    """Everyone with a phone and a step trainer; only the first ``customers`` have records."""

    customers: int
    unknown: int

    @property
    def total(self) -> int:
        return self.customers + self.unknown


@dataclass(frozen=True)
class Roles:
    """Per customer: consent kind (NO_CONSENT...), record history (NO_HISTORY...), idleness;
    plus (borrower, lender) pairs whose first readings happen at the same instants.
    """

    consent: np.ndarray
    history: np.ndarray
    idle: np.ndarray
    borrowers: np.ndarray
    lenders: np.ndarray


def people_for_scale(scale: float) -> People:
    """How many customers and unknown people a scale means; ValueError below MIN_SCALE."""
    if not math.isfinite(scale) or scale < MIN_SCALE:
        raise ValueError(f"scale must be a number >= {MIN_SCALE}, got {scale}")
    customers = round(PEOPLE_PER_SCALE * scale)
    return People(customers, max(1, round(UNKNOWN_PEOPLE_SHARE * customers)))


def pick(rng: np.random.Generator, candidates: np.ndarray, count: int) -> np.ndarray:
    """Up to ``count`` distinct indices where ``candidates`` is true (fewer if too few exist)."""
    pool = np.flatnonzero(candidates)
    return rng.permutation(pool)[:count]


def assign_roles(rng: np.random.Generator, customers: int) -> Roles:
    """Decide who consents when, whose records repeat, who shares reading times and who is idle.

    Exact counts rather than independent coin flips, so that every case exists at small scales.
    """
    consent = np.full(customers, NO_CONSENT)
    consenting = pick(rng, np.ones(customers, bool), round(CONSENT_SHARE * customers))
    consent[consenting] = AT_SIGNUP
    during = share_count(CONSENT_DURING_USE_SHARE, len(consenting))
    after = share_count(CONSENT_AFTER_USE_SHARE, len(consenting))
    consent[consenting[:during]] = DURING_USE
    consent[consenting[during:during + after]] = AFTER_USE

    # Sharing and idleness go to customers whose readings are all trusted, so that both change
    # the counts; record histories go to the others, so every case shows even at MIN_SCALE.
    candidates = pick(rng, consent == AT_SIGNUP, customers)
    pairs = min(share_count(SHARED_TIMES_PAIR_SHARE, customers), len(candidates) // 2)
    idle = np.zeros(customers, bool)
    idle[candidates[2 * pairs:2 * pairs + share_count(IDLE_SHARE, customers)]] = True
    free = ~idle
    free[candidates[:2 * pairs]] = False

    history = np.full(customers, NO_HISTORY)
    for kind, share, eligible in ((WITHDRAWN, WITHDRAWN_SHARE, consent == NO_CONSENT),
                                  (GRANTED, GRANTED_SHARE, consent != NO_CONSENT),
                                  (REREGISTERED, REREGISTERED_SHARE, np.ones(customers, bool))):
        history[pick(rng, free & eligible & (history == NO_HISTORY),
                     share_count(share, customers))] = kind
    return Roles(consent, history, idle, candidates[:pairs], candidates[pairs:2 * pairs])


def reading_times(rng: np.random.Generator, people: int, window_ms: int,
                  borrowers: np.ndarray, lenders: np.ndarray) -> np.ndarray:
    """Epoch-ms reading times, shape (people, READING_TIMES_PER_PERSON), increasing per person.

    A borrower's first few times are its lender's, as when two phones tick in the same
    millisecond: that is what separates the ``device`` from the ``timestamp`` ml_match.
    """
    starts = FIRST_DAY_MS + rng.integers(0, window_ms, people)
    gaps = rng.integers(*READING_GAP_MS, (people, READING_TIMES_PER_PERSON))
    gaps[:, 0] = 0
    offsets = np.cumsum(gaps, axis=1)
    times = starts[:, None] + offsets
    shared = rng.integers(3, 9, len(borrowers))
    position = np.arange(READING_TIMES_PER_PERSON)
    last_shared = times[lenders, shared - 1] - offsets[borrowers, shared - 1]
    times[borrowers] = np.where(position < shared[:, None], times[lenders],
                                last_shared[:, None] + offsets[borrowers])
    return times


def on_shared_clocks(times: np.ndarray, clocks: int) -> np.ndarray:
    """Reading times of a fleet: device p reads when device p mod ``clocks`` does, so that the
    devices share ``clocks`` schedules (each instant by about len(times) / clocks devices)."""
    return times[np.arange(len(times)) % clocks]


def consent_dates(rng: np.random.Generator, consent: np.ndarray, registered: np.ndarray,
                  times: np.ndarray) -> np.ndarray:
    """Research consent date per customer (-1 = none), placed relative to their readings."""
    customers = len(consent)
    at_reading = times[np.arange(customers), rng.integers(1, READING_TIMES_PER_PERSON, customers)]
    after_last = times[:, -1] + rng.integers(1_000, 7 * DAY_MS, customers)
    return np.select([consent == AT_SIGNUP, consent == DURING_USE, consent == AFTER_USE],
                     [registered, at_reading, after_last], -1)


def identities(rng: np.random.Generator, people: int) -> dict[str, list[str]]:
    """Fake names, unique emails, fictional 555 phones, birthdays and device UUIDs."""
    first = rng.choice(FIRST_NAMES, people)
    last = rng.choice(LAST_NAMES, people)
    birth = np.datetime64("1930-01-01") + rng.integers(0, 27_000, people).astype("timedelta64[D]")
    serial_bytes = rng.bytes(16 * people)
    return {
        "customerName": [f"{f} {s}" for f, s in zip(first, last)],
        "email": [f"{f}.{s}{i + 1}@example.com" for i, (f, s) in enumerate(zip(first, last))],
        "phone": [f"801555{n:04d}" for n in rng.integers(0, 10_000, people)],
        "birthDay": [str(day) for day in birth],
        "serialNumber": [str(uuid.UUID(bytes=serial_bytes[16 * i:16 * i + 16], version=4))
                         for i in range(people)],
    }


def optional(value: np.integer) -> int | None:
    """A plain int for JSON, or None where the generator's arrays hold -1 for "no date"."""
    return int(value) if value >= 0 else None


def customer_record(who: dict[str, str], registered: int, updated: int, research: int | None,
                    public: int | None, friends: int | None, explicit_null: bool = False) -> dict:
    """One landing line as a dict in the field order of docs/design.md, "Landing schemas";
    absent share dates mean null.

    ``explicit_null`` writes a JSON null for withdrawn consent, since both spellings occur in
    real exports and readers must treat them alike.
    """
    record = {**who, "registrationDate": registered, "lastUpdateDate": updated}
    shares = {"shareWithResearchAsOfDate": research, "shareWithPublicAsOfDate": public,
              "shareWithFriendsAsOfDate": friends}
    record.update({k: v for k, v in shares.items()
                   if v is not None or (explicit_null and k == "shareWithResearchAsOfDate")})
    return record


def earlier_record(who: dict[str, str], latest: dict, history: int, earlier_registration: int,
                   old_phone: str) -> dict | None:
    """The record that ``latest`` replaced, with the opposite consent; None without a history."""
    registered, updated = latest["registrationDate"], latest["lastUpdateDate"]
    public = latest.get("shareWithPublicAsOfDate")
    friends = latest.get("shareWithFriendsAsOfDate")
    if history == WITHDRAWN:  # consented at sign-up, withdrew later
        return customer_record(who, registered, registered, registered, public, friends)
    if history == GRANTED:  # refused at sign-up, consented later
        return customer_record(who, registered, registered, None, public, friends)
    if history == REREGISTERED:
        # An older sign-up updated at the same instant: only registrationDate tells them apart.
        consented = latest.get("shareWithResearchAsOfDate") is not None
        research = None if consented else earlier_registration
        return customer_record({**who, "phone": old_phone}, earlier_registration, updated,
                               research, public, friends)
    return None


def customer_records(rng: np.random.Generator, roles: Roles, times: np.ndarray,
                     people: dict[str, list[str]]) -> list[dict]:
    """Every customer's latest record, plus an earlier record for those with a history, shuffled.

    The earlier record differs in what matters (consent), so only a correct "latest record per
    email" gives the right customer_trusted; shuffling keeps file order from telling which is
    the latest.
    """
    customers = len(roles.consent)
    registered = times[:customers, 0] - rng.integers(60_000, 30 * DAY_MS, customers)
    research = consent_dates(rng, roles.consent, registered, times[:customers])
    public = np.where(rng.random(customers) < 0.5, registered, -1)
    friends = np.where(rng.random(customers) < 0.5, registered, -1)
    updated = np.maximum.reduce([registered, research, public, friends]) + np.where(
        roles.history != NO_HISTORY, rng.integers(60_000, 7 * DAY_MS, customers), 0)
    earlier_registered = registered - rng.integers(DAY_MS, 365 * DAY_MS, customers)
    old_phones = rng.integers(0, 10_000, customers)
    records = []
    for i in range(customers):
        who = {field: values[i] for field, values in people.items()}
        latest = customer_record(who, int(registered[i]), int(updated[i]), optional(research[i]),
                                 optional(public[i]), optional(friends[i]),
                                 explicit_null=roles.history[i] == WITHDRAWN)
        earlier = earlier_record(who, latest, roles.history[i], int(earlier_registered[i]),
                                 f"801555{old_phones[i]:04d}")
        records.extend([latest] if earlier is None else [latest, earlier])
    return [records[j] for j in rng.permutation(len(records))]


def reading_slots(times: np.ndarray, idle: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(person, time) of every moment a device reads, skipping idle customers' devices."""
    active = np.ones(len(times), bool)
    active[:len(idle)] = ~idle
    person = np.repeat(np.flatnonzero(active), READING_TIMES_PER_PERSON)
    return person, times[active].ravel()


def with_duplicates(rng: np.random.Generator, rows: int) -> np.ndarray:
    """Row order in which a few rows appear twice, the copy at a random later or earlier place."""
    copies = rng.choice(rows, share_count(DUPLICATE_ROW_SHARE, rows), replace=False)
    return np.insert(np.arange(rows), rng.integers(0, rows, len(copies)), copies)


def accelerometer_rows(rng: np.random.Generator, person: np.ndarray, time: np.ndarray,
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(person, timestamp, xyz code 0..26) per phone reading; 1-3 distinct readings per time.

    Codes c, c+d, c+2d (mod 27, 1 <= d <= 13) are distinct, so exact duplicates come only from
    ``with_duplicates`` and their number is known.
    """
    per_time = rng.choice(PHONE_READINGS_PER_TIME, len(time), p=PHONE_READINGS_PROBABILITIES)
    base = rng.integers(0, 27, len(time))
    step = rng.integers(1, 14, len(time))
    slot = np.repeat(np.arange(len(time)), per_time)
    nth = np.arange(len(slot)) - np.repeat(np.cumsum(per_time) - per_time, per_time)
    return person[slot], time[slot], (base[slot] + nth * step[slot]) % 27


def xyz_suffixes() -> list[str]:
    """The JSON tail for each xyz code: axes in {-1, 0, 1}, written as doubles like Udacity's."""
    return [f',"x":{c // 9 - 1:.1f},"y":{c // 3 % 3 - 1:.1f},"z":{c % 3 - 1:.1f}}}\n'
            for c in range(27)]


def accelerometer_lines(emails: list[str], person: np.ndarray, time: np.ndarray,
                        code: np.ndarray) -> Callable[[np.ndarray], list[str]]:
    """A formatter of accelerometer rows into JSON lines.

    String templates built once per person, because json.dumps per row would be the slowest
    part of generating millions of rows.
    """
    heads = [f'{{"user":{json.dumps(email)},"timestamp":' for email in emails]
    tails = xyz_suffixes()
    return lambda rows: [heads[p] + str(t) + tails[c] for p, t, c in
                         zip(person[rows].tolist(), time[rows].tolist(), code[rows].tolist())]


def step_trainer_lines(serials: list[str], person: np.ndarray, time: np.ndarray,
                       distance: np.ndarray) -> Callable[[np.ndarray], list[str]]:
    """A formatter of step trainer rows into JSON lines (templates, as for accelerometer rows)."""
    middles = [f',"serialNumber":{json.dumps(serial)},"distanceFromObject":' for serial in serials]
    return lambda rows: [f'{{"sensorReadingTime":{t}{middles[p]}{d}}}\n' for t, p, d in
                         zip(time[rows].tolist(), person[rows].tolist(), distance[rows].tolist())]


def landing_folder(lake: Path, source: str) -> Path:
    """Where a source's landing files go, as the pipeline defines it."""
    return Path(pipeline.landing_table(source).location(lake))


def prepare_landing(lake: Path, overwrite: bool) -> None:
    """Empty landing folders to write into; refuse to touch existing files unless ``overwrite``."""
    folders = [landing_folder(lake, source) for source in pipeline.SOURCES]
    occupied = [f for f in folders if f.is_dir() and any(f.iterdir())]
    if occupied and not overwrite:
        raise LandingExistsError(f"{occupied[0]} already has files; use --overwrite to replace "
                                 "the landing folders")
    for folder in folders:
        if folder.is_dir():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)


def write_files(folder: Path, source: str, parts: list[np.ndarray],
                lines: Callable[[np.ndarray], list[str]], defects: DefectPlan | None) -> None:
    """Write each part of the rows as a file ``<source>-0001.json``...; ``lines`` formats rows.

    Formatting in slices keeps memory flat at large scales. With ``defects``, the lines carry
    them, cut-off objects end some files, and one more file is left empty.
    """
    first = 0
    for number, part in enumerate(parts, start=1):
        path = folder / f"{source}-{number:04d}.json"
        with open(path, "w", encoding="utf-8", newline="\n") as out:
            for start in range(0, len(part), ROWS_PER_WRITE):
                chunk = lines(part[start:start + ROWS_PER_WRITE])
                if defects is not None:
                    chunk = defects.render(chunk, first + start, number)
                out.write("".join(chunk))
            if defects is not None:
                out.write(defects.tails.get(number, ""))
        first += len(part)
    if defects is not None:
        # An export run that found nothing new still writes its (empty) file.
        (folder / f"{source}-{len(parts) + 1:04d}.json").touch()


def write_source(lake: Path, source: str, order: np.ndarray, files: int,
                 lines: Callable[[np.ndarray], list[str]],
                 planner: Callable[..., DefectPlan] | None) -> dict[str, int]:
    """Write rows ``order`` of one source as ``files`` files, with the defects that ``planner``
    (``plan_defects`` with its generator and rate bound) places; return the defect counts."""
    parts = np.array_split(order, min(files, len(order)))
    plan = None if planner is None else planner(
        source, [len(part) for part in parts],
        lambda position: json.loads(lines(order[position:position + 1])[0]))
    write_files(landing_folder(lake, source), source, parts, lines, plan)
    return {} if plan is None else plan.counts


def manifest_path(lake: Path) -> Path:
    """Where a generated lake records how it was made (hidden from Spark by the "_")."""
    return Path(lake) / "_generator" / "manifest.json"


def write_manifest(lake: Path, manifest: dict) -> None:
    path = manifest_path(lake)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def validate_parameters(scale: float, seed: int, files_per_source: int,
                        dirty_rate: float, fleet_clocks: int = 0) -> People:
    """The people a scale means; ValueError names the first bad parameter."""
    if fleet_clocks < 0:
        raise ValueError(f"fleet clocks must be 0 (no fleet) or more, got {fleet_clocks}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    if files_per_source < 1:
        raise ValueError(f"files per source must be at least 1, got {files_per_source}")
    if not 0 <= dirty_rate <= 1:  # also refuses nan
        raise ValueError(f"dirty rate must be between 0 and 1, got {dirty_rate}")
    return people_for_scale(scale)


def generate(lake: Path, scale: float = 1.0, seed: int = 42, files_per_source: int = 4,
             overwrite: bool = False, dirty: bool = False,
             dirty_rate: float = DEFAULT_DIRTY_RATE, fleet_clocks: int = 0) -> dict[str, int]:
    """Write landing data for all three sources under ``lake``; return records per source.

    With ``dirty``, about 30 serial numbers are shared by nearly all customers, and the files
    carry the defects of real exports (``scripts.sample_data.defects``) at about ``dirty_rate`` of
    the records, each kind at least once. The returned counts are the records of the data set,
    which a correct reader accepts; defective extra lines are not counted. ``<lake>/_generator/
    manifest.json`` records the parameters and the defects injected.

    With ``fleet_clocks`` (> 0), the devices sample on that many shared clocks: the clocks'
    readings start within the window of scale 1, whatever the scale, and every instant is shared
    by about (people / fleet_clocks) devices, as when a fleet samples on one clock.

    Raises ValueError for a bad scale, seed, file count or rate and LandingExistsError when
    landing files exist and ``overwrite`` is false.
    """
    people = validate_parameters(scale, seed, files_per_source, dirty_rate, fleet_clocks)
    lake = Path(lake)
    prepare_landing(lake, overwrite)
    # One stream per concern, so that dirty mode leaves the clean data's streams untouched.
    roles_rng, times_rng, people_rng, customer_rng, phone_rng, step_rng, defects_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(7))
    roles = assign_roles(roles_rng, people.customers)
    window = WINDOW_MS_PER_SCALE * (1 if fleet_clocks else max(scale, 1))
    times = reading_times(times_rng, people.total, round(window), roles.borrowers, roles.lenders)
    if fleet_clocks and fleet_clocks < people.total:
        times = on_shared_clocks(times, fleet_clocks)
    who = identities(people_rng, people.total)
    sharing = None
    if dirty:
        who["serialNumber"], sharing = shared_serials(defects_rng, who["serialNumber"],
                                                      people.customers)
    planner = partial(plan_defects, defects_rng, dirty_rate) if dirty else None

    customers = customer_records(customer_rng, roles, times, who)
    encoded = [json.dumps(record) + "\n" for record in customers]
    defects = {"customer": write_source(lake, "customer", np.arange(len(encoded)),
                                        files_per_source, lambda rows: [encoded[r] for r in rows],
                                        planner)}

    slot_person, slot_time = reading_slots(times, roles.idle)
    phone_person, phone_time, phone_code = accelerometer_rows(phone_rng, slot_person, slot_time)
    phone_order = with_duplicates(phone_rng, len(phone_time))
    defects["accelerometer"] = write_source(
        lake, "accelerometer", phone_order, files_per_source,
        accelerometer_lines(who["email"], phone_person, phone_time, phone_code), planner)

    distance = step_rng.integers(*STEP_DISTANCE_RANGE, len(slot_time))
    step_order = with_duplicates(step_rng, len(slot_time))
    defects["step_trainer"] = write_source(
        lake, "step_trainer", step_order, files_per_source,
        step_trainer_lines(who["serialNumber"], slot_person, slot_time, distance), planner)

    records = {"customer": len(customers), "accelerometer": len(phone_order),
               "step_trainer": len(step_order)}
    write_manifest(lake, {
        "parameters": {"scale": scale, "seed": seed, "files_per_source": files_per_source,
                       "dirty": dirty, "dirty_rate": dirty_rate if dirty else None,
                       "fleet_clocks": fleet_clocks},
        "records": records,
        "emails_with_withdrawn_consent": int(np.sum(roles.history == WITHDRAWN)),
        "shared_serials": sharing,
        "defects": defects if dirty else None,
    })
    return records
