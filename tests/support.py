"""Helpers shared by the tests: where things are, and loading a Glue script as a module."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from types import ModuleType

import pytest

from scripts.lake import pipeline
from scripts.local_glue import runner

REPO_ROOT = Path(__file__).resolve().parents[1]
UDACITY_DATA = REPO_ROOT.parent / "shared" / "data" / "udacity-starter"

needs_udacity_data = pytest.mark.skipif(
    not UDACITY_DATA.is_dir(), reason=f"Udacity starter data not found at {UDACITY_DATA}")


def load_job_module(job_name: str) -> ModuleType:
    """Import glue_jobs/<job_name>.py without running its main() (its __name__ is not __main__).

    The local awsglue runtime must be on sys.path first; tests/conftest.py puts it there.
    """
    return runner.load_job_module(pipeline.job(job_name))


def copy_landing(source_root: Path, lake: Path) -> Path:
    """Copy the three landing folders of ``source_root`` into a fresh lake folder."""
    for table in pipeline.landing_tables():
        shutil.copytree(source_root / table.path, lake / table.path)
    return lake


def reference_rows(connection) -> dict[str, list[tuple]]:
    """Every output table's rows in a DuckDB connection of the reference
    (``zones_duckdb.compute_zones``), sorted as ``test_pipeline.output_rows`` sorts a lake's."""
    return {t.name: sorted(connection.sql(f"select * from {t.name}").fetchall(), key=repr)
            for t in pipeline.output_tables()}


# Where a machine keeps its programs; a test that needs a machine without some of them builds a
# PATH of links to everything else (path_without).
SYSTEM_BIN_DIRS = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")


def path_without(folder: Path, excluded) -> str:
    """A PATH of one folder, ``folder``, holding links to the programs of SYSTEM_BIN_DIRS whose
    names ``excluded(name)`` rejects not: the machine as it would be without them."""
    folder.mkdir(parents=True, exist_ok=True)
    for directory in map(Path, SYSTEM_BIN_DIRS):
        for program in sorted(directory.iterdir()) if directory.is_dir() else ():
            link = folder / program.name
            if not excluded(program.name) and not os.path.lexists(link):
                link.symlink_to(program)
    return str(folder)
