"""The defects of real landing exports, for generating dirty data (``generate_data --dirty``).

The STEDI website, app and step trainers export messier files than the clean JSON lines that the
zone rules assume (issue "Real-world dirty data"). This module decides where each defect goes and
renders the lines it touches; ``generator`` writes them.

Defects that leave a record readable are applied to the records themselves: objects written back
to back, trailing commas, numbers written as strings, a key spelled differently in a whole file,
Windows line endings. Defects that make a line unreadable are extra lines, built from copies of
real records: garbage, unbalanced braces, wrong types, missing key fields, a field name written
twice, a file cut off mid-object; blank lines and empty files come on top. So no generated record
is lost: a correct reader accepts exactly the records of the data set and quarantines the rest.
Serial numbers shared by many customers (a fulfilment mistake in the real data) change the data
set itself, and are decided here too.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# Record-level defects; --dirty-rate is shared evenly between them.
JOINED = ("back_to_back_without_comma", "back_to_back_with_comma")
INSERTED = ("blank_line", "garbage_line", "unbalanced_braces", "wrong_type",
            "missing_key_field", "duplicate_field")
RECORD_DEFECTS = (*JOINED, "trailing_comma", "number_as_string", *INSERTED)

SEPARATORS = {"back_to_back_without_comma": ("", " "),
              "back_to_back_with_comma": (",", ", ", " , ")}
BLANK_LINES = ("", "   ", "\t")
GARBAGE_LINES = ("<html><body><h1>503 Service Unavailable</h1></body></html>", "null",
                 "[1, 2, 3]", '"export complete"', "NaN", "user=unknown timestamp=0")
GARBAGE_CHARACTERS = string.ascii_letters + string.digits + "#$%&*+-./:;<=>?@^_|~ "

DROP = object()  # in a record override: remove the key
NUMBER_AS_STRING = {"customer": "registrationDate", "accelerometer": "timestamp",
                    "step_trainer": "sensorReadingTime"}
# (the spelling of docs/design.md, "Landing schemas"; another spelling seen in exports); whole
# files use it for the sources in RESPELLED_FILE_SOURCES, duplicate_field records carry both.
OTHER_SPELLING = {"customer": ("email", "Email"), "accelerometer": ("timestamp", "timeStamp"),
                  "step_trainer": ("serialNumber", "SerialNumber")}
RESPELLED_FILE_SOURCES = ("accelerometer", "step_trainer")
CRLF_FILE_SOURCES = ("customer",)
WRONG_TYPES: dict[str, tuple[dict, ...]] = {
    "customer": ({"registrationDate": "2024-06-01"}, {"lastUpdateDate": 1.7172e12},
                 {"shareWithResearchAsOfDate": "yes", "shareWithPublicAsOfDate": True}),
    "accelerometer": ({"timestamp": "yesterday"}, {"x": "abc"}, {"y": True, "z": "n/a"}),
    "step_trainer": ({"distanceFromObject": 12.5}, {"distanceFromObject": 3_000_000_000},
                     {"sensorReadingTime": "soon"}),
}
MISSING_KEYS: dict[str, tuple[dict, ...]] = {
    "customer": ({"email": DROP}, {"email": None}),
    "accelerometer": ({"user": None}, {"timestamp": DROP}, {"user": DROP, "timestamp": DROP}),
    "step_trainer": ({"sensorReadingTime": DROP}, {"serialNumber": None}),
}
UNBALANCED: tuple[Callable[[str], str], ...] = (
    lambda text: "{" + text, lambda text: text + "}", lambda text: text[:-1])

# Like the real data: 30 serial numbers for nearly all (999 of 1,000) customers.
SHARED_SERIALS = 30
CUSTOMERS_PER_OWN_SERIAL = 1000


@dataclass(frozen=True)
class DefectPlan:
    """Where one source's defects go. Positions number the records in write order (0-based
    across its files); file numbers start at 1, like the file names."""

    source: str
    separators: dict[int, str]  # record -> text joining it to the next record on its line
    trailing_commas: frozenset[int]
    inserted: dict[int, list[str]]  # record -> lines written after it
    numbers_as_strings: frozenset[int]
    respelled_file: int | None
    crlf_file: int | None
    tails: dict[int, str]  # file -> cut-off object ending the file, without a newline
    counts: dict[str, int]  # defect kind -> how many were injected (for the manifest)
    special: np.ndarray  # sorted positions whose line is more than the record and a newline

    def render(self, lines: list[str], first: int, file_number: int) -> list[str]:
        """``lines`` (records ``first``.. of file ``file_number``, each ending in "\\n") with
        their defects."""
        eol = "\r\n" if file_number == self.crlf_file else "\n"
        respelled = file_number == self.respelled_file
        if respelled or eol != "\n":
            positions = range(first, first + len(lines))
        else:
            low, high = np.searchsorted(self.special, [first, first + len(lines)])
            positions = self.special[low:high].tolist()
        for position in positions:
            lines[position - first] = self.line(lines[position - first][:-1], position, eol,
                                                respelled)
        return lines

    def line(self, record: str, position: int, eol: str, respelled: bool) -> str:
        """One record's text with its own defects, then what follows it up to the next record."""
        if position in self.numbers_as_strings:
            record = number_as_string(record, NUMBER_AS_STRING[self.source])
        if respelled:
            name, other = OTHER_SPELLING[self.source]
            record = record.replace(f'"{name}":', f'"{other}":', 1)
        if position in self.separators:
            return record + self.separators[position]
        comma = "," if position in self.trailing_commas else ""
        return record + comma + eol + "".join(extra + eol
                                              for extra in self.inserted.get(position, ()))


def share_count(share: float, population: int) -> int:
    """``share`` of ``population``, at least one so that small data sets still show every case
    (every property of the generated data, every defect of dirty data)."""
    return max(1, round(share * population))


def number_as_string(record: str, field: str) -> str:
    """The record with ``field``'s integer written as a JSON string ("123"), which readers
    accept like Athena's JSON SerDe does."""
    return re.sub(rf'("{field}":\s*)(-?[0-9]+)', r'\1"\2"', record, count=1)


def with_overrides(record: dict, overrides: dict) -> dict:
    """A copy of ``record`` with keys set (or removed, for DROP)."""
    changed = {**record, **overrides}
    return {key: value for key, value in changed.items() if value is not DROP}


def garbage_line(rng: np.random.Generator) -> str:
    """A line no reader can take for JSON: a known kind of junk, or random characters (never
    braces, so that it stays one record; always a letter first, so that it is never blank)."""
    if rng.random() < 0.5:
        return GARBAGE_LINES[rng.integers(len(GARBAGE_LINES))]
    characters = rng.choice(list(GARBAGE_CHARACTERS), rng.integers(5, 40))
    return rng.choice(list(string.ascii_letters)) + "".join(characters)


def broken_line(rng: np.random.Generator, kind: str, source: str, record: dict) -> str:
    """An extra line of defect ``kind``, made from a copy of ``record``."""
    if kind == "blank_line":
        return BLANK_LINES[rng.integers(len(BLANK_LINES))]
    if kind == "garbage_line":
        return garbage_line(rng)
    if kind == "unbalanced_braces":
        return UNBALANCED[rng.integers(len(UNBALANCED))](json.dumps(record))
    if kind == "wrong_type":
        variants = WRONG_TYPES[source]
        return json.dumps(with_overrides(record, variants[rng.integers(len(variants))]))
    if kind == "missing_key_field":
        variants = MISSING_KEYS[source]
        return json.dumps(with_overrides(record, variants[rng.integers(len(variants))]))
    if kind == "duplicate_field":
        name, other = OTHER_SPELLING[source]
        return json.dumps({**record, other: record[name]})
    raise ValueError(f"unknown defect kind {kind!r}")


def cut_off(rng: np.random.Generator, record: dict) -> str:
    """The first part of a record's JSON, as when an export stops mid-object: it starts with
    "{" and, records being flat, has no "}"."""
    text = json.dumps(record)
    return text[:rng.integers(len(text) // 4, len(text) - 1)]


def plan_defects(rng: np.random.Generator, rate: float, source: str, file_sizes: list[int],
                 record_at: Callable[[int], dict]) -> DefectPlan:
    """Choose where each defect goes in one source's files.

    ``rate`` is the share of records given a record-level defect, split evenly between the
    kinds, each at least once where there is room; ``record_at(position)`` is the record
    written at a position, for the copies that broken lines are made of.
    """
    total = sum(file_sizes)
    wanted = share_count(rate / len(RECORD_DEFECTS), total)
    everything = np.arange(total)
    # A file's last record ends its line: objects are joined only within a file.
    joinable = np.setdiff1d(everything, np.cumsum(file_sizes) - 1)
    joined = rng.choice(joinable, min(2 * wanted, len(joinable)), replace=False)
    counts: dict[str, int] = {}
    separators = {}
    for kind, positions in zip(JOINED, np.array_split(joined, 2)):
        choices = SEPARATORS[kind]
        separators.update({int(p): choices[rng.integers(len(choices))] for p in positions})
        counts[kind] = len(positions)
    unjoined = np.setdiff1d(everything, joined)
    trailing_commas = rng.choice(unjoined, min(wanted, len(unjoined)), replace=False)
    inserted: dict[int, list[str]] = {}
    for kind in INSERTED:
        for position in rng.choice(unjoined, wanted).tolist():
            donor = record_at(int(rng.integers(total)))
            inserted.setdefault(position, []).append(broken_line(rng, kind, source, donor))
    numbers_as_strings = rng.choice(total, wanted, replace=False)

    files = len(file_sizes)
    truncated = sorted(rng.permutation(files)[:max(1, files // 2)].tolist())
    tails = {number + 1: cut_off(rng, record_at(int(rng.integers(total))))
             for number in truncated}
    respelled = int(rng.integers(files)) + 1 if source in RESPELLED_FILE_SOURCES else None
    crlf = int(rng.integers(files)) + 1 if source in CRLF_FILE_SOURCES else None

    counts.update(trailing_comma=len(trailing_commas), number_as_string=len(numbers_as_strings))
    counts.update({kind: wanted for kind in INSERTED})
    counts.update(truncated_last_line=len(tails), empty_file=1)
    if respelled is not None:
        counts[f"records_with_key_{OTHER_SPELLING[source][1]}"] = file_sizes[respelled - 1]
    if crlf is not None:
        counts["records_with_crlf_line_ends"] = file_sizes[crlf - 1]
    special = np.unique(np.concatenate([joined, trailing_commas, numbers_as_strings,
                                        np.fromiter(inserted, np.int64)]))
    return DefectPlan(source, separators, frozenset(trailing_commas.tolist()), inserted,
                      frozenset(numbers_as_strings.tolist()), respelled, crlf, tails, counts,
                      special)


def shared_serials(rng: np.random.Generator, serials: list[str], customers: int,
                   ) -> tuple[list[str], dict[str, int]]:
    """``serials`` (one per person, customers first) with nearly all customers' devices
    replaced by one of at most SHARED_SERIALS serials, each shared by several customers; and
    the numbers for the manifest. People after the customers keep theirs (they have no record).

    Every customer's step trainer readings then carry a shared serial, as in the real data, so
    that "the curated customer owns this device" matches many customers at once.
    """
    count = min(SHARED_SERIALS, customers // 2)
    sharing = rng.permutation(customers)[:customers - customers // CUSTOMERS_PER_OWN_SERIAL]
    shared = [serials[i] for i in sharing[:count]]
    result = list(serials)
    for n, customer in enumerate(sharing.tolist()):
        result[customer] = shared[n % count]
    return result, {"serials": count, "customers": len(sharing)}
