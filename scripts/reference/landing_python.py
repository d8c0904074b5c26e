"""An independent, pure-Python implementation of the landing acceptance rules for dirty data.

Real exports are not clean JSON lines: objects are written back to back, lines end in commas,
files are cut off mid-object, keys change case, values have the wrong type. The Glue jobs read
such files leniently and quarantine what they cannot accept, with a reason. This module applies
the same rules with nothing but ``json`` and ``re``, written from the rules rather than from the
Spark code, so that a differential test can compare accepted and quarantined counts per source
and per reason: two independent readers agreeing is the evidence that both follow the rules.

The rules, per landing file (JSON lines) of a source:

1. Every file below ``<lake>/<source>/landing/`` whose name (and whose folders' names, as in
   Spark's file listing) does not start with "_" or "." is read as UTF-8 and split into lines
   on "\\n"; one trailing "\\r" is dropped; a final "\\n" does not start another line.
2. A line is stripped of whitespace, then of ONE trailing comma; an empty line has no record.
3. The line is split between objects written back to back (``}{``, ``},{``, ``} , {``); each
   fragment is one record, numbered by line (1-based) and place on the line (0-based).
4. A record is quarantined with the first reason that applies: "truncated object", "malformed
   JSON", "duplicate field", "wrong type: f1, f2", "missing key field: f1, f2"; else accepted,
   with typed values in schema order. Field names match case-insensitively.

Whitespace is ASCII whitespace (what Java's and ``re.ASCII``'s ``\\s`` match) and regexes must
match the whole text, so that the Spark side can reproduce both exactly.

Usage: ``python -m scripts.reference.landing_python --lake DIR`` prints each source's summary as
JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from scripts._cli.errors import OneLineArgumentParser, fail
from scripts.lake import pipeline

LANDING_SCHEMAS = pipeline.LANDING_SCHEMAS
KEY_FIELDS = pipeline.KEY_FIELDS

WHITESPACE = " \t\n\r\f\v"
TRAILING_COMMA = re.compile(r",\s*$", re.ASCII)
OBJECT_BOUNDARY = re.compile(r"(?<=\})\s*,?\s*(?=\{)", re.ASCII)
# The rules' ^...$ patterns, used with fullmatch: "$" alone (in Python and Java) also matches
# before a final "\n", which would let the JSON string "5\n" pass as an integer.
INTEGER_TEXT = re.compile(r"-?[0-9]+")
DOUBLE_TEXT = re.compile(r"[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?")
INTEGER_LIMITS = {"bigint": 2 ** 63, "int": 2 ** 31}  # signed: -limit <= value < limit

# Per source: (field, its name in lowercase, type, is a key field), in schema order.
SCHEMA_FIELDS = {source: [(field, field.lower(), kind, field in KEY_FIELDS[source])
                          for field, kind in schema.items()]
                 for source, schema in LANDING_SCHEMAS.items()}

TRUNCATED = "truncated object"
MALFORMED = "malformed JSON"
DUPLICATE_FIELD = "duplicate field"
WRONG_TYPE = "wrong type"
MISSING_KEY = "missing key field"


@dataclass(frozen=True)
class Record:
    """One object of a landing line, accepted (``reason`` None, ``values`` in schema order) or
    quarantined (``reason`` set, ``values`` None). ``source_file`` is relative to the landing
    folder, in POSIX form."""

    source_file: str
    line_number: int
    object_index: int
    text: str
    reason: str | None
    values: tuple | None


class NumberText(str):
    """A JSON number (or NaN/Infinity) kept as its literal text.

    The type rules judge a value by its text, so 12.50 must stay "12.50" and a 20-digit integer
    must not become a float; the subclass tells a number from a JSON string inside containers.
    """


class KeyedObject(dict):
    """A JSON object (last value wins for repeated keys) that remembers every key as written,
    because ``dict`` alone would hide keys that differ only in case or repeat exactly."""

    def __init__(self, pairs: list[tuple[str, object]]) -> None:
        super().__init__(pairs)
        self.names = [name for name, _ in pairs]


def landing_files(folder: Path) -> list[Path]:
    """Readable files below ``folder``, sorted; names starting with "_" or "." are skipped at
    every level, like Spark's listing skips ``_SUCCESS``, ``.crc`` and ``_temporary/``."""
    return sorted(path for path in folder.rglob("*")
                  if path.is_file() and not any(part.startswith(("_", "."))
                                                for part in path.relative_to(folder).parts))


def physical_lines(text: str) -> list[str]:
    """Lines split on "\\n" only (str.splitlines also splits on \\x1c, \\u2028 and others, which
    Spark's line reader does not); a final "\\n" ends the last line rather than starting one."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def line_content(line: str) -> str:
    """The line without surrounding whitespace and ONE trailing comma (lines of a JSON array
    exported one element per line end in commas)."""
    return TRAILING_COMMA.sub("", line.strip(WHITESPACE), count=1)


def fragments(content: str) -> list[str]:
    """The objects written back to back on one line, with or without a comma between them.

    Split on the text pattern alone, even inside a JSON string: the rule must be reproducible
    with one regex in Spark, and such a record is quarantined on both sides.
    """
    return [fragment for fragment in OBJECT_BOUNDARY.split(content) if fragment]


# What json.loads would build per call, built once: it is a third of the reading time.
DECODER = json.JSONDecoder(object_pairs_hook=KeyedObject, parse_int=NumberText,
                           parse_float=NumberText, parse_constant=NumberText)


def parse_object(fragment: str) -> KeyedObject | None:
    """The fragment as exactly one JSON object, numbers kept as text; None if it is not one."""
    try:
        value = DECODER.decode(fragment)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        return None
    return value if isinstance(value, KeyedObject) else None


def has_case_duplicates(names: list[str]) -> bool:
    """Whether two keys differ but are equal ignoring case ("timeStamp" and "timestamp"):
    a case-insensitive reader could only guess which one is meant."""
    spellings = set(names)
    return len({name.lower() for name in spellings}) < len(spellings)


def compact_json(value: object) -> str:
    """Compact JSON text of a parsed value, numbers as written (they are NumberText)."""
    if isinstance(value, NumberText):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{compact_json(k)}:{compact_json(v)}"
                              for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(compact_json(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def value_text(value: object) -> str | None:
    """The text a type rule judges: a string's content, a number's literal, "true"/"false",
    an object's or array's compact JSON; None for JSON null."""
    if value is None:
        return None
    if isinstance(value, str):
        return str(value)  # a plain str also for NumberText, so accepted values are plain types
    if isinstance(value, bool):
        return "true" if value else "false"
    return compact_json(value)


def typed_value(kind: str, text: str) -> int | float | str | None:
    """The value of ``text`` as a field of type ``kind``; None when the text does not fit."""
    if kind == "string":
        return text
    if kind == "double":  # finite: 1e400 does not fit a double
        number = float(text) if DOUBLE_TEXT.fullmatch(text) else math.inf
        return number if math.isfinite(number) else None
    if not INTEGER_TEXT.fullmatch(text):
        return None
    number, limit = int(text), INTEGER_LIMITS[kind]
    return number if -limit <= number < limit else None


def is_integer_literal(value: object) -> bool:
    """A JSON number written without fraction or exponent (a string "-0" is not one)."""
    return isinstance(value, NumberText) and INTEGER_TEXT.fullmatch(value) is not None


def check_fields(parsed: KeyedObject, source: str) -> tuple[str | None, tuple | None]:
    """Type and key rules on a parsed object whose keys differ in more than case: (reason,
    None) or (None, typed values in schema order). Keys match schema fields ignoring case."""
    by_lower = {name.lower(): value for name, value in parsed.items()}
    values, wrong, missing = [], [], []
    for field, lowered, kind, is_key in SCHEMA_FIELDS[source]:
        raw = by_lower.get(lowered)
        text = value_text(raw)
        value = None if text is None else typed_value(kind, text)
        # A special case here, not in typed_value, which sees only text: Spark's JSON parser
        # (Jackson) reads the integer literal -0 as the integer 0, so a double field gets 0.0,
        # while "-0.0", or -0 written as a string, keeps its sign.
        if kind == "double" and value == 0 and is_integer_literal(raw):
            value = 0.0
        if text is not None and value is None:
            wrong.append(field)
        elif value is None and is_key:
            missing.append(field)
        values.append(value)
    if wrong:
        return f"{WRONG_TYPE}: {', '.join(wrong)}", None
    if missing:
        return f"{MISSING_KEY}: {', '.join(missing)}", None
    return None, tuple(values)


def check_fragment(fragment: str, source: str) -> tuple[str | None, tuple | None]:
    """(reason, None) for a quarantined record, (None, typed values) for an accepted one."""
    parsed = parse_object(fragment)
    if parsed is None:
        truncated = fragment.startswith("{") and not fragment.endswith("}")
        return (TRUNCATED if truncated else MALFORMED), None
    if has_case_duplicates(parsed.names):
        return DUPLICATE_FIELD, None
    return check_fields(parsed, source)


def read_file(path: Path, name: str, source: str) -> list[Record]:
    """Every record of one landing file. Undecodable bytes become U+FFFD, as in Spark's text
    reader, so that they make a record malformed instead of failing the whole run."""
    records = []
    text = path.read_bytes().decode("utf-8", errors="replace")
    for number, line in enumerate(physical_lines(text), start=1):
        for index, fragment in enumerate(fragments(line_content(line))):
            reason, values = check_fragment(fragment, source)
            records.append(Record(name, number, index, fragment, reason, values))
    return records


def read_source(landing_root: Path, source: str) -> list[Record]:
    """Every record of ``<landing_root>/<source>/landing/``, files in path order.

    ``landing_root`` is the lake root. FileNotFoundError names a missing landing folder.
    """
    folder = Path(pipeline.landing_table(source).location(landing_root))
    if not folder.is_dir():
        raise FileNotFoundError(f"no landing folder {folder}")
    return [record for path in landing_files(folder)
            for record in read_file(path, path.relative_to(folder).as_posix(), source)]


def summarize(records: list[Record]) -> dict:
    """``{"accepted": n, "quarantined": n, "by_reason": {reason: n}}``; a reason is counted by
    its name before ":" ("wrong type"), since the field lists vary from record to record."""
    reasons = Counter(r.reason.split(":")[0] for r in records if r.reason is not None)
    quarantined = sum(reasons.values())
    return {"accepted": len(records) - quarantined, "quarantined": quarantined,
            "by_reason": dict(sorted(reasons.items()))}


def summarize_lake(landing_root: Path) -> dict[str, dict]:
    """``summarize`` of every source of a lake, in ``pipeline.SOURCES`` order."""
    return {source: summarize(read_source(landing_root, source)) for source in pipeline.SOURCES}


def accepted_rows(landing_root: Path) -> dict[str, list[tuple]]:
    """The accepted rows of every source, in schema order: what ``zones_duckdb`` computes
    the zones from when given dirty data."""
    return {source: [r.values for r in read_source(landing_root, source) if r.reason is None]
            for source in pipeline.SOURCES}


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = OneLineArgumentParser(prog="landing_python",
                                   description="Count accepted and quarantined landing records.")
    parser.add_argument("--lake", type=Path, required=True, help="lake root directory")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    try:
        summaries = summarize_lake(args.lake)
    except OSError as error:
        fail(f"landing_python: {error}")
    print(json.dumps(summaries, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
