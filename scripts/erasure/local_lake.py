"""The erasure tool's view of a local lake: a folder, whose jobs the local runner runs again."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from scripts._cli.errors import CliError
from scripts.erasure import landing_records
from scripts.erasure.forgetting import PENDING
from scripts.lake import local_device_key, pipeline

JobRunner = Callable[[Path, list[str]], None]


def run_local_process(lake: Path, arguments: list[str]) -> None:
    """The local runner in a process of its own, its progress and table shown as they come."""
    command = [sys.executable, "-m", "scripts.run_local", "--lake", str(lake), *arguments]
    if subprocess.run(command, check=False).returncode != 0:
        raise CliError("the jobs failed after the landing files were changed; run the same "
                       "forget command again to finish")


class LocalLake:
    """A lake folder; jobs run by the local runner with the options of the lake's last run.

    ``job_runner`` runs the local runner with the given arguments (its command line); by
    default in a process of its own, tests pass one on their Spark session.
    """

    def __init__(self, root: Path, database: str, key_file: Path,
                 job_runner: JobRunner = run_local_process) -> None:
        if not root.is_dir():
            raise CliError(f"lake folder {root} does not exist")
        self.root, self.database, self.key_file = root, database, key_file
        self.job_runner = job_runner
        self.description = str(root)
        self.proof_hint = "with make query"

    def query_command(self, sql: str) -> str:
        return make_query_command(sql, self.root)

    def landing_files(self, source: str) -> list[str]:
        """The landing files the jobs read, sorted (landing_records.is_listed)."""
        folder = Path(pipeline.landing_table(source).location(self.root))
        if not folder.is_dir():
            return []
        return sorted(path.relative_to(self.root).as_posix() for path in folder.rglob("*")
                      if path.is_file()
                      and landing_records.is_listed(path.relative_to(folder).as_posix()))

    def read(self, key: str) -> bytes:
        return (self.root / key).read_bytes()

    def replace(self, key: str, data: bytes) -> None:
        """Write ``data`` to a hidden file beside the target (no reader lists names starting
        with "."), flush it to disk, then rename it over the target: a reader, or a re-run
        after a crash, sees the old file or the new one, never half of one. The file keeps its
        mode; a new one is readable by its owner only."""
        target = self.root / key
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o600
        descriptor, temporary = tempfile.mkstemp(prefix=".forget-", dir=target.parent)
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.chmod(temporary, mode)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def read_json(self, key: str) -> dict | None:
        path = self.root / key
        return json.loads(path.read_text()) if path.is_file() else None

    def write_json(self, key: str, value: dict) -> None:
        (self.root / key).parent.mkdir(parents=True, exist_ok=True)
        self.replace(key, (json.dumps(value, indent=2) + "\n").encode())

    def delete(self, key: str) -> None:
        (self.root / key).unlink(missing_ok=True)

    def last_run(self) -> dict | None:
        return self.read_json("_reports/latest.json")

    def zone_counts(self) -> dict[str, int] | None:
        report = self.last_run()
        return report["tables"] if report else None

    def run_jobs(self) -> dict[str, int]:
        """All five jobs, with the options of the lake's last run; the new zone counts."""
        options = (self.last_run() or {}).get("options", {})
        self.job_runner(self.root, [
            "--database", self.database, "--device-key-file", str(self.key_file),
            "--consent-mode", options.get("consent_mode", pipeline.DEFAULT_CONSENT_MODE),
            "--ml-match", options.get("ml_match", pipeline.DEFAULT_ML_MATCH)])
        return self.zone_counts() or {}

    def count_rows(self, sql: str) -> int:
        from scripts.lake.query_engine import connect, run_query

        if not hasattr(self, "_connection"):
            self._connection = connect(self.root, self.database)
        _, [(count,)] = run_query(self._connection, sql)
        return count

    def device_key(self) -> bytes:
        return local_device_key.key_of(self.key_file)

    def files_mentioning(self, values: list[str]) -> list[str] | None:
        """Files of the lake, but Parquet, whose bytes hold one of ``values``: logs, reports,
        catalog entries and every text zone. Parquet is compressed; the proof queries read it.
        The pending erasure records are not looked at: they are deleted once this finds
        nothing."""
        needles = [value.encode() for value in values]
        pending = self.root / PENDING
        return sorted(path.relative_to(self.root).as_posix() for path in self.root.rglob("*")
                      if path.is_file() and path.suffix != ".parquet"
                      and not path.is_relative_to(pending)
                      and contains_any(path.read_bytes(), needles))


def contains_any(data: bytes, needles: list[bytes]) -> bool:
    return any(needle in data for needle in needles)


def make_query_command(sql: str, lake: Path) -> str:
    """``make query LAKE=... Q="..."`` for a shell: Q in double quotes when nothing but ``"``
    needs escaping there (the SQL's own single quotes then read as they are), else in shlex's
    quoting."""
    if any(character in sql for character in "$`\\!"):
        quoted = shlex.quote(sql)
    else:
        quoted = '"' + sql.replace('"', '\\"') + '"'
    return f"make query LAKE={shlex.quote(str(lake))} Q={quoted}"
