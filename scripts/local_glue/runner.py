"""The local runner: the unchanged Glue scripts of glue_jobs/ run on a local lake, in order.

Each script is executed as Glue executes it: as ``__main__`` with a fresh ``sys.argv`` of Glue job
arguments, importing ``awsglue`` (the local runtime of this package). All jobs share one Spark
session, so the JVM starts once. ``run_pipeline`` returns the run report
(docs/design.md, "Run report"); ``python -m scripts.run_local`` is the command over it.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

from scripts._cli.errors import CliError
from scripts.lake import local_device_key, pipeline
from scripts.lake.pipeline import GlueJob
from scripts.lake.run_report import (
    data_quality_marks,
    data_quality_since,
    landing_counts,
    read_accounting,
)
from scripts.local_glue import parquet_footers
from scripts.local_glue.glue_process import run_identifiers, run_reported

REPO_ROOT = Path(__file__).resolve().parents[2]


def table_exists(lake: Path, table: pipeline.Table) -> bool:
    """A landing table exists when it has files; a zone when its job has written it, if only
    its folder: a zone of no rows may hold no file (Glue's writer may write none)."""
    location = Path(table.location(lake))
    return any(location.glob("*")) if table.is_landing else location.is_dir()


def missing_inputs(lake: Path, jobs: tuple[GlueJob, ...]) -> list[str]:
    """Input tables that neither exist under the lake nor are written by an earlier job here."""
    produced = {j.output for j in jobs}
    missing = []
    for job in jobs:
        for name in job.inputs:
            table = pipeline.table(name)
            if name not in produced and not table_exists(lake, table):
                missing.append(f"{name} ({table.location(lake)})")
    return sorted(set(missing))


def glue_arguments(job: GlueJob, lake: Path, options: dict[str, str],
                   device_key_file: Path) -> list[str]:
    """The sys.argv Glue hands a script: script path, then --name value pairs; the job that
    reads the device key is told where it is."""
    argv = [str(REPO_ROOT / job.script), *run_identifiers(), "--JOB_NAME", job.name,
            "--lake_root", str(lake)]
    for name, value in options.items():
        argv += [f"--{name}", value]
    if job.reads_device_key:
        argv += ["--device_key", local_device_key.key_locator(device_key_file)]
    return argv


def load_job_module(job: GlueJob) -> ModuleType:
    """Import a Glue script as a module without running its main() (needs ``activate()``)."""
    spec = importlib.util.spec_from_file_location(f"glue_job_{job.name}", REPO_ROOT / job.script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def count_outputs(lake: Path) -> dict[str, int | None]:
    """Rows of every output table; None where not written yet. The Parquet footers hold the
    counts, read without a Spark job (Spark spends three on each table)."""
    counts: dict[str, int | None] = {}
    for table in pipeline.output_tables():
        files = sorted(str(path) for path in Path(table.location(lake)).glob("*.parquet"))
        if files:
            counts[table.name] = parquet_footers.row_count(files)
        else:
            counts[table.name] = 0 if table_exists(lake, table) else None
    return counts


def write_report(report: dict, lake: Path, extra_path: Path | None) -> None:
    text = json.dumps(report, indent=2) + "\n"
    for path in [lake / "_reports" / "latest.json", *([extra_path] if extra_path else [])]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def run_pipeline(lake: Path, jobs: tuple[GlueJob, ...], options: dict[str, str], spark,
                 device_key_file: Path | None = None) -> dict:
    """Run ``jobs`` in order on one Spark session and return the run report (docs/design.md,
    "Run report").

    The device key file (default ``local_device_key.default_key_file()``) is made first if a job
    needs it and it does not exist yet."""
    from scripts._cli.progress import JobProgress

    key_file = device_key_file or local_device_key.default_key_file()
    try:
        made = (any(job.reads_device_key for job in jobs)
                and local_device_key.ensure_key_file(key_file))
    except OSError as error:
        raise CliError(f"cannot make the device-id key {key_file}: {error}; pass "
                       "--device-key-file with a writable place") from error
    if made:
        print(f"made the device-id key {key_file} (readable by you only; keep it: the ids "
              "of machine_learning_curated are computed with it)", flush=True)
    seconds = {}
    evaluated_before = data_quality_marks(lake)
    for position, job in enumerate(jobs, start=1):
        seconds[job.name] = round(run_reported(
            glue_arguments(job, lake, options, key_file), lake, job.name,
            f"[{position}/{len(jobs)}] {job.name}", spark), 2)
    with JobProgress("counting the rows of every table", spark.sparkContext):
        landing, rejected, warnings = landing_counts(read_accounting(lake))
        outputs = count_outputs(lake)
    overridden = {"dq_override": True} if options.get("dq_override") == "true" else {}
    return {"options": {"consent_mode": options["consent_mode"], "ml_match": options["ml_match"],
                        **overridden},
            "tables": {t.name: landing.get(t.name, outputs.get(t.name)) for t in pipeline.TABLES},
            "rejected": rejected,
            "warnings": warnings,
            "seconds": seconds,
            "data_quality": data_quality_since(lake, evaluated_before)}
