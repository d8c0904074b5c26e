"""What a run left in the lake: the landing jobs' record accounting, and the counts it gives.

Each landing job writes ``<source>/landing_accounting.json`` (docs/design.md, "Bad input"); the
runner's report, ``check`` and ``forget`` read the accepted and quarantined counts from it.
"""

from __future__ import annotations

import json
from pathlib import Path

from scripts.lake import pipeline


def read_accounting(lake: Path) -> dict[str, dict]:
    """The record accounting each landing job wrote at its last run, by source; a source whose
    job never ran here is absent."""
    found = {}
    for source in pipeline.SOURCES:
        path = lake / pipeline.accounting_path(source)
        if path.is_file():
            found[source] = json.loads(path.read_text())
    return found


def landing_counts(accounting: dict[str, dict]) -> tuple[dict, dict[str, int], dict[str, int]]:
    """(accepted records per landing table, quarantined records per source, warnings) from the
    landing jobs' accounting; None and 0 for a source whose job never ran."""
    accepted = {t.name: accounting.get(t.source, {}).get("accepted")
                for t in pipeline.landing_tables()}
    rejected = {source: accounting.get(source, {}).get("quarantined", 0)
                for source in pipeline.SOURCES}
    shared = accounting.get("customer", {}).get("shared_serial_numbers", 0)
    return accepted, rejected, {"shared_serial_numbers": shared} if shared else {}


def data_quality_marks(lake: Path) -> dict[str, int]:
    """How many evaluations each data-quality context has kept so far (``<lake>/_dq/``, where
    the local awsgluedq keeps them: docs/design.md, "Data-quality gates")."""
    return {path.stem: len(path.read_text().splitlines())
            for path in sorted((lake / "_dq").glob("*.jsonl"))}


def data_quality_since(lake: Path, marks: dict[str, int]) -> dict[str, list[dict]]:
    """Per context evaluated since ``marks``, the rule results of its latest evaluation, in the
    order they were evaluated."""
    found = []
    for context, count in data_quality_marks(lake).items():
        if count > marks.get(context, 0):
            latest = json.loads((lake / "_dq" / f"{context}.jsonl").read_text().splitlines()[-1])
            found.append((latest["evaluated_at"], context, latest["results"]))
    return {context: results for _, context, results in sorted(found)}
