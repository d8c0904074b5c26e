"""docs/design.md is the contract the code cites: every citation names a section it has, nothing
cites a file the repository lacks, and its tables are the ones the code and the tests hold."""

from __future__ import annotations

import re
import subprocess

import pytest

from scripts.lake import pipeline
from tests.support import REPO_ROOT
from tests.test_pipeline import UDACITY_EXPECTED, UDACITY_LANDING

DESIGN = REPO_ROOT / "docs" / "design.md"
# A citation names the page, then the section in quotes: docs/design.md, "Zone rules".
CITATION = re.compile(r'docs/design\.md,\s+"([^"]+)"')


def tracked_text_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                            cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout
    return [name for name in listed.splitlines()
            if name.endswith((".py", ".md", ".sql", ".txt", ".toml", ".ini", "Makefile"))]


def sections() -> set[str]:
    return {match.group(1).strip()
            for match in re.finditer(r"^#+ (.+)$", DESIGN.read_text(), re.MULTILINE)}


def markdown_table(title: str) -> list[list[str]]:
    """The rows of the first table under the section ``title``, cells stripped."""
    text = DESIGN.read_text().split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in text.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]


def test_every_citation_of_the_design_names_one_of_its_sections():
    cited = {}
    for name in tracked_text_files():
        for section in CITATION.findall((REPO_ROOT / name).read_text(errors="replace")):
            cited.setdefault(section, name)
    assert cited, "no citation found: the pattern is wrong"
    assert {s: f for s, f in cited.items() if s not in sections()} == {}


def test_nothing_cites_a_design_file_the_repository_lacks():
    """The contract lives in the repository; an outside copy of it is not for users."""
    citing = [name for name in tracked_text_files() if name != "tests/test_design_doc.py"
              and re.search(r"(?<![\w/])DESIGN\.md", (REPO_ROOT / name).read_text(
                  errors="replace"))]
    assert citing == []


def test_the_expected_counts_are_the_ones_the_tests_pin():
    headers = ["registered + device", "registered + timestamp", "since_consent + device",
               "since_consent + timestamp"]
    options = [tuple(header.split(" + ")) for header in headers]
    table = {row[0]: [int(cell.replace(",", "")) for cell in row[1:]]
             for row in markdown_table("Expected row counts")}
    assert list(table) == [t.name for t in pipeline.TABLES]
    for column, pair in enumerate(options):
        assert {name: counts[column] for name, counts in table.items()} == {
            **UDACITY_LANDING, **UDACITY_EXPECTED[pair]}


@pytest.mark.parametrize("source", pipeline.SOURCES)
def test_the_landing_schemas_are_the_pipelines(source):
    [row] = [row for row in markdown_table("Landing schemas") if row[0] == source]
    fields = [(field.split()[0], field.split()[1]) for field in row[1].split(", ")
              if not field.startswith("(")]
    assert fields == list(pipeline.LANDING_SCHEMAS[source].items())
