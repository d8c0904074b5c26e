"""Every path of the repository that the docs, the README, the Makefile, comments and docstrings
name exists: a reader who follows one finds the file (docs/developing.md, "Layout and layers").

A path is a word that starts with one of the repository's top folders (``scripts/``,
``glue_jobs/``, ``docs/`` ...) or names a top-level file. Placeholders (``glue_jobs/<job>.py``),
globs and formatted strings are not paths; nor are the folders that runs create (GENERATED).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support import REPO_ROOT

TOP_FOLDERS = ("athena_ddl", "bench", "docs", "glue_jobs", "img", "scripts", "tests", ".ci")
TOP_FILES = ("Makefile", "README.md", "pyproject.toml", "pytest.ini", r"requirements[\w.-]*\.txt")
PATH = re.compile(r"(?<![\w./-])(?:(?:%s)/[\w./<>{}*$-]*|(?:%s)(?![\w.-]))"
                  % ("|".join(re.escape(f) for f in TOP_FOLDERS), "|".join(TOP_FILES)))
# Made by runs, not kept in the repository (.gitignore).
GENERATED = ("bench/data",)
# Named on purpose as what is not there: a test's missing script.
NOT_PATHS = {"glue_jobs/nope.py"}
TEXT_FILES = sorted(
    [REPO_ROOT / "README.md", REPO_ROOT / "Makefile", *REPO_ROOT.glob("requirements*.txt"),
     *(REPO_ROOT / "docs").rglob("*.md"), *(REPO_ROOT / "bench").glob("*.md"),
     *[path for folder in ("scripts", "glue_jobs", "tests")
       for path in (REPO_ROOT / folder).rglob("*.py")]])


def named_paths(text: str) -> set[str]:
    found = set()
    for match in PATH.finditer(text):
        path = match.group(0).rstrip(".:")
        in_a_regex = text[match.end():match.end() + 1] == "\\"
        if not any(mark in path for mark in "<>{}*$") and not in_a_regex \
                and path not in NOT_PATHS:
            found.add(path)
    return found


def test_the_pattern_finds_paths_and_skips_placeholders():
    text = ("see scripts/lake/pipeline.py, glue_jobs/<job>.py and docs/zones.md. "
            "requirements-glue-5.0.txt; f'{REPO}/scripts/{name}.py'; my_scripts/x.py; Makefile")
    assert named_paths(text) == {"scripts/lake/pipeline.py", "docs/zones.md",
                                 "requirements-glue-5.0.txt", "Makefile"}


@pytest.mark.parametrize("path", TEXT_FILES, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_every_path_a_file_names_exists(path: Path):
    missing = sorted(named for named in named_paths(path.read_text())
                     if not (REPO_ROOT / named).exists()
                     and not named.startswith(GENERATED))
    assert missing == []


CITATION = re.compile(r'(docs/[\w/-]+\.md),\s+"([^"]+)"')


def headings(page: Path) -> set[str]:
    return {line.lstrip("#").strip() for line in page.read_text().splitlines()
            if line.startswith("#")}


@pytest.mark.parametrize("path", TEXT_FILES, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_every_section_a_file_cites_is_a_heading_of_its_page(path: Path):
    """A citation reads ``docs/<page>.md, "<Section>"``: the page has that heading."""
    text = re.sub(r"\s*\n\s*(?:#\s*)?", " ", path.read_text())  # a citation may wrap
    unknown = sorted({f'{page}, "{section}"' for page, section in CITATION.findall(text)
                      if (REPO_ROOT / page).is_file() and section.strip()  # not "a, " "b"
                      and section not in headings(REPO_ROOT / page)})
    assert unknown == []
