"""Which landing records belong to one customer, and the landing files without them.

The erasure (scripts/erasure/forgetting.py) is built on these pure functions: bytes in, bytes out,
no file system, no AWS, so that the same rules serve a local lake and a bucket, and tests can
state exactly what must go and what must stay.

A landing record is the customer's when:

- customer: its ``email`` is the email (field names match ignoring case, as the jobs read them);
- accelerometer: its ``user`` is the email;
- step_trainer: its ``serialNumber`` is one of the customer's serial numbers that no other
  customer record names. A serial number shared with another customer is kept, and reported:
  those readings are the other customer's as much as this one's.

A record the jobs quarantine (malformed JSON, a truncated object) cannot be read by field, so it
is the customer's when its text holds the email, or an owned serial number, as a JSON string
(with its quotes); a cut-off record that runs into the next object is one record to the jobs,
and goes whole. Records are split as the landing jobs split them
(docs/design.md, "Bad input"): a line holding only the customer's records is removed with its
line end; a line mixing them with others' keeps the others' records, each on a line of its
own; every other line stays byte for byte as it was.

The splitting and the landing jobs' verdict on a record are written here from the contract, not
borrowed from the tests' reference reader (scripts/reference/landing_python.py), so that the
tests compare two readings of the rules rather than one with itself.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

# The email to forget is checked by the rule every tool shares (deploy's --notify too);
# named here as well, where forget and its tests have always found it.
from scripts._cli.email_address import InvalidEmailError as InvalidEmailError
from scripts._cli.email_address import checked_email as checked_email
from scripts.lake import pipeline

# What identifies a record's customer, per source.
IDENTITY_FIELD = {"customer": "email", "accelerometer": "user", "step_trainer": "serialNumber"}
# Order of the landing rewrite: the customer records last, because they tell which serial
# numbers are the customer's; a run interrupted before them finds the same ones again.
REWRITE_ORDER = ("step_trainer", "accelerometer", "customer")


# The landing jobs' record rules (docs/design.md, "Bad input"): ASCII whitespace, one trailing
# comma dropped, objects written back to back split apart; numbers judged by their text.
ASCII_WHITESPACE = " \t\n\r\f\v"
TRAILING_COMMA = re.compile(r",\s*$", re.ASCII)
BACK_TO_BACK = re.compile(r"(?<=\})\s*,?\s*(?=\{)", re.ASCII)
INTEGER = re.compile(r"-?[0-9]+")
DECIMAL = re.compile(r"[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?")
INTEGER_RANGE = {"bigint": 2 ** 63, "int": 2 ** 31}  # -limit <= value < limit


# --- reading a landing file as the jobs do -------------------------------------------------------

class JsonObject(list):
    """A parsed JSON object as its (name, value) pairs, every spelling of every name kept."""


class NumberText(str):
    """A JSON number (or NaN, Infinity) as written: the type rules judge its text."""


def parse_object(text: str) -> JsonObject | None:
    """The text as exactly one JSON object, or None when it is not one."""
    try:
        value = json.loads(text, object_pairs_hook=JsonObject, parse_int=NumberText,
                           parse_float=NumberText, parse_constant=NumberText)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        return None
    return value if isinstance(value, JsonObject) else None


def line_records(line: str) -> list[str]:
    """The records of one line: without surrounding whitespace and one trailing comma, split
    where one object ends and the next begins."""
    content = TRAILING_COMMA.sub("", line.strip(ASCII_WHITESPACE), count=1)
    return [record for record in BACK_TO_BACK.split(content) if record]


def fits(value: object, kind: str) -> bool:
    """Whether a non-null JSON value reads as a field of type ``kind``: any value is a string;
    a number, or a string holding one, is a number of the type when its text is one and in
    range; true, false, objects and arrays are no number."""
    if kind == "string":
        return True
    if not isinstance(value, str):
        return False
    if kind == "double":
        return DECIMAL.fullmatch(value) is not None and math.isfinite(float(value))
    limit = INTEGER_RANGE[kind]
    return INTEGER.fullmatch(value) is not None and -limit <= int(value) < limit


def is_quarantined(record: str, source: str) -> bool:
    """Whether the landing job quarantines the record: not one JSON object, names that differ
    only in case, a value of the wrong type, or a key field missing or null."""
    pairs = parse_object(record)
    if pairs is None:
        return True
    names = {name for name, _ in pairs}
    if len({name.lower() for name in names}) < len(names):
        return True
    values = {name.lower(): value for name, value in pairs}
    for field, kind in pipeline.LANDING_SCHEMAS[source].items():
        value = values.get(field.lower())
        if value is None:
            if field in pipeline.KEY_FIELDS[source]:
                return True
        elif not fits(value, kind):
            return True
    return False


def is_listed(relative_path: str) -> bool:
    """Whether the jobs read a file at this path below a landing folder: Spark's listing skips
    names starting with "_" or "." at every level (_SUCCESS, .crc, _temporary/)."""
    return not any(part.startswith(("_", ".")) for part in relative_path.split("/"))


# --- which records are the customer's ---------------------------------------------------------

def identities(fragment: str, source: str) -> set[str] | None:
    """The values of the source's identity field in one record (several when the record
    spells the field in several cases), or None when the record is not one JSON object."""
    parsed = parse_object(fragment)
    return None if parsed is None else field_values(parsed, IDENTITY_FIELD[source])


def field_values(parsed: JsonObject, field: str) -> set[str]:
    """The string values of ``field`` in a parsed record, whatever the case of its name."""
    wanted = field.lower()
    return {str(value) for name, value in parsed
            if name.lower() == wanted and isinstance(value, str)}


def mentions(fragment: str, values: Iterable[str]) -> bool:
    """Whether the text holds one of ``values`` as a JSON string, quotes included."""
    return any(json.dumps(value, ensure_ascii=False) in fragment for value in values)


def belongs(fragment: str, source: str, email: str, serials: frozenset[str]) -> bool:
    """Whether one landing record is the customer's (see the module's rules)."""
    wanted = serials if source == "step_trainer" else frozenset({email})
    found = identities(fragment, source)
    if found is None:
        return mentions(fragment, wanted)
    return not found.isdisjoint(wanted)


def record_texts(data: bytes) -> Iterable[str]:
    """Every record of one landing file, as the landing jobs split it."""
    lines = data.decode("utf-8", errors="replace").split("\n")
    if lines[-1] == "":  # a final "\n" ends the last line rather than starting one
        lines.pop()
    for line in lines:
        yield from line_records(line.removesuffix("\r"))


def customer_serials(customer_files: Iterable[bytes], email: str) -> tuple[set[str], set[str]]:
    """(serial numbers only this customer's records name, those other customers' records name
    too), from the customer landing files."""
    own: set[str] = set()
    others: set[str] = set()
    for data in customer_files:
        for fragment in record_texts(data):
            parsed = parse_object(fragment)
            if parsed is None:
                continue
            owner = own if email in field_values(parsed, "email") else others
            owner.update(field_values(parsed, "serialNumber"))
    return own - others, own & others


@dataclass
class Removal:
    """What removing the customer from one landing file takes out, and the file after it."""

    data: bytes
    removed: int = 0
    quarantined: int = 0  # of the removed records, those the landing job had quarantined
    split_lines: int = 0  # lines that also held others' records, which were kept

    @property
    def changed(self) -> bool:
        return self.removed > 0


def line_screen(source: str, email: str, serials: frozenset[str]):
    """A quick test on a line's bytes that is true for every line that may hold a record of
    the customer, so that only those are parsed: most lines are someone else's.

    A record is the customer's only when its text holds the email (or an owned serial number):
    as the identity field's value, or as a JSON string. Without a backslash in the line, no
    JSON escape can spell the value otherwise, so the value's bytes must be there. A value
    holding U+FFFD could come from undecodable bytes: then every line is parsed.
    """
    values = serials if source == "step_trainer" else frozenset({email})
    if any("\ufffd" in value for value in values):
        return lambda line: True
    needles = [value.encode() for value in values]
    return lambda line: b"\\" in line or any(needle in line for needle in needles)


def without_customer(data: bytes, source: str, email: str, serials: frozenset[str]) -> Removal:
    """One landing file without the customer's records; every other line as it was."""
    lines = data.split(b"\n")
    ends_with_newline = lines[-1] == b""
    if ends_with_newline:
        lines.pop()
    kept: list[bytes] = []
    removal = Removal(data=b"")
    screen = line_screen(source, email, serials)
    for line in lines:
        if not screen(line):
            kept.append(line)
            continue
        text = line.decode("utf-8", errors="replace").removesuffix("\r")
        records = line_records(text)
        theirs = [belongs(record, source, email, serials) for record in records]
        if not any(theirs):
            kept.append(line)
            continue
        for record, is_theirs in zip(records, theirs):
            if is_theirs:
                removal.removed += 1
                removal.quarantined += is_quarantined(record, source)
            else:
                kept.append(record.encode("utf-8"))
        removal.split_lines += not all(theirs)
    removal.data = b"\n".join(kept) + (b"\n" if kept and ends_with_newline else b"")
    return removal
