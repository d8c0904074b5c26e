"""Running an unchanged Glue script in this process as Glue runs it: as ``__main__``, with Glue's
``sys.argv``, the local catalog under the lake, what the job logs in a file of its own, and a
failure reported as one line that names the file holding its traceback.

What the commands share that run scripts: ``scripts.run_local`` (the pipeline, in dependency
order) and ``scripts.glue_submit`` (one script with the job parameters of Glue Studio).
"""

from __future__ import annotations

import logging
import os
import runpy
import secrets
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from scripts.lake import pipeline

# Where the local runtime keeps its catalog (awsglue/_local_catalog.py reads it): the lake root.
CATALOG_ROOT_VARIABLE = "STEDI_LOCAL_CATALOG_ROOT"


def run_identifiers() -> list[str]:
    """The arguments Glue gives every run of a job before the job's own: its job id and a new
    run id (the data-quality results carry the run id)."""
    return ["--JOB_ID", f"j_{secrets.token_hex(32)}", "--JOB_RUN_ID", f"jr_{secrets.token_hex(32)}"]


@contextmanager
def glue_process_state(argv: list[str], lake: Path) -> Iterator[None]:
    """sys.argv and the local catalog location as a Glue job sees them, restored afterwards."""
    saved_argv, saved_catalog = sys.argv, os.environ.get(CATALOG_ROOT_VARIABLE)
    sys.argv = argv
    os.environ[CATALOG_ROOT_VARIABLE] = str(lake)
    try:
        yield
    finally:
        sys.argv = saved_argv
        if saved_catalog is None:
            os.environ.pop(CATALOG_ROOT_VARIABLE, None)
        else:
            os.environ[CATALOG_ROOT_VARIABLE] = saved_catalog


def run_script(argv: list[str], lake: Path) -> None:
    """Execute the script ``argv[0]`` as ``__main__`` with ``sys.argv`` = ``argv`` (needs
    ``scripts.local_glue.activate()`` and a Spark session made before)."""
    with glue_process_state(argv, lake):
        try:
            runpy.run_path(argv[0], run_name="__main__")
        finally:
            # A Glue job run ends with its Spark session, and its cached data with it; the
            # local jobs share one session, where a later run of the same plan on changed
            # landing files would otherwise read the earlier run's cache.
            from pyspark.sql import SparkSession

            active = SparkSession.getActiveSession()
            if active is not None:
                active.catalog.clearCache()


def first_line(error: BaseException) -> str:
    """The message of an error without the JVM stack trace Py4J appends."""
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:500]


def log_folder(lake: Path) -> Path:
    return lake / "_logs"


def traceback_file(lake: Path, job_name: str) -> Path:
    """Where a failing job's traceback is kept: the one-line error names this file, which
    holds the file and line of the error. A run of the job removes an earlier one."""
    return log_folder(lake) / f"{job_name}.traceback"


def keep_traceback(lake: Path, job_name: str) -> Path:
    """Write the traceback of the exception being handled to the job's traceback file."""
    path = traceback_file(lake, job_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(traceback.format_exc())
    return path


def failure_line(lake: Path, job_name: str, error: BaseException) -> str:
    """The one line that reports a failed job (call it while handling ``error``): its error,
    the file now holding its traceback, and where Spark's log is."""
    return (f"job {job_name} failed: {first_line(error)} (traceback: "
            f"{keep_traceback(lake, job_name)}; Spark log: {log_folder(lake) / 'spark.log'})")


@contextmanager
def job_log_file(path: Path) -> Iterator[None]:
    """Send what a job logs through glueContext.get_logger() (the local runtime's Python logger
    "awsglue.local"; CloudWatch on AWS) to ``path`` instead of the terminal, which shows the
    runner's progress."""
    path.parent.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger("awsglue.local")
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    saved = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        handler.close()
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


def run_reported(argv: list[str], lake: Path, job_name: str, label: str, spark) -> float:
    """Run the script ``argv[0]`` with progress on the terminal under ``label``, what it logs in
    ``<lake>/_logs/<job_name>.log`` and an earlier traceback removed; its seconds. A failure of
    any kind is CliError with the one line of failure_line (the traceback kept in its file)."""
    from scripts._cli.errors import CliError
    from scripts._cli.progress import JobProgress

    traceback_file(lake, job_name).unlink(missing_ok=True)
    progress = JobProgress(label, spark.sparkContext)
    try:
        with progress, job_log_file(log_folder(lake) / f"{job_name}.log"):
            run_script(argv, lake)
    except Exception as error:  # a job's failure of any kind is reported, not re-raised
        raise CliError(failure_line(lake, job_name, error)) from error
    return progress.seconds


def landing_bytes(lake: Path, jobs: tuple[pipeline.GlueJob, ...]) -> int:
    """Size of the landing files the jobs read: it tells a short run from a long one."""
    folders = {Path(pipeline.table(name).location(lake)) for job in jobs for name in job.inputs
               if pipeline.table(name).zone == "landing"}
    return sum(f.stat().st_size for folder in folders if folder.is_dir()
               for f in folder.rglob("*") if f.is_file())
