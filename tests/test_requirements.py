"""Every package the code imports is declared, pinned, in every Glue version's requirements:
a fresh environment installs what the code needs, not what another package happened to pull."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions

import pytest

from tests.support import REPO_ROOT

REQUIREMENT_FILES = ["requirements.txt", *sorted(p.name for p in
                                                 REPO_ROOT.glob("requirements-glue-*.txt"))]
# Given by Glue itself (locally, scripts/local_glue/awsglue and scripts/local_glue/awsgluedq).
PROVIDED_BY_GLUE = {"awsglue", "awsgluedq"}
FIRST_PARTY = {"scripts", "glue_jobs", "tests"}


def declared(requirement_file: str) -> dict[str, str]:
    """Distribution name (normalised) -> pinned version, following ``-r`` includes."""
    pins = {}
    for line in (REPO_ROOT / requirement_file).read_text().splitlines():
        line = line.split("#")[0].strip()
        if line.startswith("-r "):
            pins |= declared(line[3:].strip())
        elif line:
            name, _, version = line.partition("==")
            pins[re.sub(r"[-_.]+", "-", re.sub(r"\[.*\]", "", name)).lower()] = version
    return pins


def imported_top_level_modules() -> set[str]:
    found = set()
    for folder in ("scripts", "glue_jobs", "tests"):
        for path in (REPO_ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    found |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - FIRST_PARTY - PROVIDED_BY_GLUE


@pytest.mark.parametrize("requirement_file", REQUIREMENT_FILES)
def test_every_imported_package_is_pinned(requirement_file):
    pins = declared(requirement_file)
    distributions = packages_distributions()
    missing = sorted(f"{module} ({', '.join(distributions.get(module, ['?']))})"
                     for module in imported_top_level_modules()
                     if not any(re.sub(r"[-_.]+", "-", dist).lower() in pins
                                for dist in distributions.get(module, [module])))
    assert missing == []
    assert all(version for version in pins.values()), "every requirement is pinned with =="
