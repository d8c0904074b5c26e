"""Run one Glue script locally as Glue runs it, with the job parameters typed in Glue Studio.

    python -m scripts.glue_submit glue_jobs/<script>.py --JOB_NAME <name> --lake_root <folder>
                                  [--<key> <value> ...]

After the script come the job's parameters, each Key of Glue Studio's Job details and its Value
as two words, and --JOB_NAME, which Glue sets to the job's name. Locally the lake root is a
folder where Glue has ``s3://<bucket>``, and --device_key names a key file
(``file:<path>``; ``python -m scripts.local_key`` makes one and prints it) or an S3 object.

The script runs unchanged, as ``__main__`` in this process, importing the local ``awsglue``,
with ``sys.argv`` as Glue builds it: the script's path, the identifiers Glue gives each run
(--JOB_ID, --JOB_RUN_ID), the job parameters, and the parameters Glue Studio gives a new job
unless they were set (--job-bookmark-option, --TempDir, --enable-metrics, ...), which the
scripts must ignore. What the job logs goes to ``<lake>/_logs/<name>.log``. A mistake on this
command line, and a job that fails, end with one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from scripts._cli.errors import CliError, OneLineArgumentParser, fail
from scripts.lake import pipeline
from scripts.local_glue.glue_process import (
    landing_bytes,
    log_folder,
    run_identifiers,
    run_reported,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
# Set by Glue for every run (AWS's awsglue library reads them: Job.id_params); never typed.
RUN_IDENTIFIERS = ("--JOB_ID", "--JOB_RUN_ID")
REQUIRED = ("--JOB_NAME", "--lake_root")


def studio_defaults(lake: Path) -> dict[str, str]:
    """The parameters Glue Studio gives a new script job (Job details), with the bookmark as
    docs/glue-studio.md, "The five jobs" has it chosen; Studio's S3 folders become folders of
    the local lake."""
    scratch = lake / "_glue_temp"
    return {"--job-bookmark-option": "job-bookmark-disable",
            "--TempDir": f"{scratch}/temporary/",
            "--enable-metrics": "true",
            "--enable-spark-ui": "true",
            "--spark-event-logs-path": f"{scratch}/sparkHistoryLogs/",
            "--enable-job-insights": "true",
            "--enable-observability-metrics": "true",
            "--enable-glue-datacatalog": "true",
            "--job-language": "python"}


def parse_arguments(argv: list[str]) -> tuple[Path, dict[str, str]]:
    """(script, job parameters in the order given); CliError for a malformed parameter."""
    parser = OneLineArgumentParser(prog="glue_submit", description=__doc__.split("\n\n")[0],
                                   epilog=__doc__.split("\n\n", 2)[2],
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("script", type=Path, help="the Glue script, e.g. glue_jobs/<job>.py")
    parser.add_argument("parameters", nargs=argparse.REMAINDER, metavar="--<key> <value>",
                        help="the job parameters, as Glue Studio's Key and Value")
    args = parser.parse_args(argv)
    if {"-h", "--help"} & set(args.parameters):
        parser.print_help()
        raise SystemExit(0)
    return args.script, job_parameters(args.parameters)


def job_parameters(words: list[str]) -> dict[str, str]:
    """``--key value`` pairs as a map, as Glue keeps a job's parameters: one value per key."""
    parameters: dict[str, str] = {}
    for position in range(0, len(words), 2):
        key = words[position]
        value = words[position + 1] if position + 1 < len(words) else None
        if not key.startswith("--") or len(key) == 2:
            raise CliError(f"{key!r} is not a job parameter: give each as --<key> <value>, "
                           "Glue Studio's Key and Value")
        if "=" in key:
            raise CliError(f"{key}: give the key and its value as two words (--key value), as "
                           "Glue Studio's Key and Value fields hold them")
        if value is None or value.startswith("--"):
            raise CliError(f"{key} has no value: give each parameter as --<key> <value>")
        if key in parameters:
            raise CliError(f"{key} is given twice: a Glue job has one value per key")
        if key in RUN_IDENTIFIERS:
            raise CliError(f"{key} is set by Glue for each run: leave it out")
        parameters[key] = value
    missing = [key for key in REQUIRED if key not in parameters]
    if missing:
        raise CliError(f"missing {' and '.join(missing)}: --JOB_NAME is the job's name (Glue "
                       "sets it), --lake_root the lake folder (where Glue has s3://<bucket>)")
    return parameters


def glue_argv(script: Path, parameters: dict[str, str], lake: Path) -> list[str]:
    """``sys.argv`` as Glue hands it to a script: the script's path, the run's identifiers, the
    job parameters, then Glue Studio's parameters that were not set."""
    argv = [str(script), *run_identifiers()]
    for key, value in {**parameters, **{k: v for k, v in studio_defaults(lake).items()
                                         if k not in parameters}}.items():
        argv += [key, value]
    return argv


def check_lake(lake_root: str) -> Path:
    if lake_root.startswith("s3://"):
        raise CliError(f"--lake_root {lake_root} is a bucket: locally the lake is a folder, "
                       "given where Glue Studio has s3://<bucket>")
    lake = Path(lake_root)
    if not lake.is_dir():
        raise CliError(f"lake folder {lake_root} does not exist (python -m "
                       f"scripts.generate_data --lake {lake_root} makes one)")
    return lake.resolve()


def pipeline_job(script: Path) -> pipeline.GlueJob | None:
    """The job of the pipeline whose script this is, if it is one."""
    return next((job for job in pipeline.JOBS
                 if (REPO_ROOT / job.script).resolve() == script.resolve()), None)


def log_name(job_name: str) -> str:
    """The job's name as a file name of the log folder."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", job_name)


def output_rows(spark, lake: Path, job: pipeline.GlueJob) -> str:
    """'<table>: <n> rows (<location>)' of what a job of the pipeline wrote."""
    table = pipeline.table(job.output)
    location = Path(table.location(lake))
    rows = (spark.read.parquet(str(location)).count() if any(location.glob("*.parquet"))
            else 0)
    return f"{table.name}: {rows:,} rows ({location})"


def submit(script: Path, parameters: dict[str, str]) -> str:
    """Run the script; the line that reports its success (CliError with the failure's line)."""
    if not script.is_file():
        raise CliError(f"script {script} not found (the five are glue_jobs/<job>.py)")
    lake = check_lake(parameters["--lake_root"])
    name = log_name(parameters["--JOB_NAME"])
    job = pipeline_job(script)

    from scripts.local_glue import activate
    from scripts.local_glue.session import SHORT_RUN_BYTES, JavaNotFoundError, local_spark_session

    activate()
    short_run = job is None or landing_bytes(lake, (job,)) < SHORT_RUN_BYTES
    try:
        spark = local_spark_session(log_file=log_folder(lake) / "spark.log", short_run=short_run)
    except JavaNotFoundError as error:
        raise CliError(str(error)) from error
    run_reported(glue_argv(script.resolve(), parameters, lake), lake, name,
                 f"{parameters['--JOB_NAME']} ({script})", spark)
    wrote = f"wrote {output_rows(spark, lake, job)}; " if job else ""
    return f"{wrote}the job's log: {log_folder(lake) / f'{name}.log'}"


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    try:
        script, parameters = parse_arguments(sys.argv[1:] if argv is None else argv)
        report = submit(script, parameters)
    except CliError as error:
        fail(str(error))
    print(f"{report}; done in {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
