"""Run the unchanged Glue scripts of glue_jobs/ on a local lake, in dependency order.

    python -m scripts.run_local --lake DIR [--consent-mode M] [--ml-match M] [--jobs a,b]
                                [--database stedi] [--report-json FILE] [--device-key-file F]

Each script is executed as Glue executes it: as ``__main__`` with a fresh ``sys.argv`` of Glue job
arguments, importing ``awsglue`` (here the local runtime in scripts/local_glue). All jobs share
one Spark session, so the JVM starts once. At the end a table of the row counts of all eight
tables and the quarantined lines is printed, and the run report is written to
``<lake>/_reports/latest.json`` (and to ``--report-json``). The key of machine_learning_curated's
pseudonymous device ids is a file outside the lake, made on the first run (scripts/local_key.py).
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from pathlib import Path
from types import ModuleType

from scripts import local_key, pipeline
from scripts._cli.errors import CliError, OneLineArgumentParser, fail
from scripts.local_glue.glue_process import landing_bytes, run_reported
from scripts.pipeline import GlueJob
from scripts._cli.text_table import SECTION_BREAK, box_table

REPO_ROOT = Path(__file__).resolve().parents[1]


def parse_arguments(argv: list[str]):
    parser = OneLineArgumentParser(prog="run_local", description=__doc__.split("\n\n")[0])
    parser.add_argument("--lake", required=True, type=Path,
                        help="lake root holding customer/, accelerometer/, step_trainer/")
    parser.add_argument("--consent-mode", default=pipeline.DEFAULT_CONSENT_MODE,
                        choices=pipeline.CONSENT_MODES)
    parser.add_argument("--ml-match", default=pipeline.DEFAULT_ML_MATCH,
                        choices=pipeline.ML_MATCHES)
    parser.add_argument("--jobs", default=",".join(j.name for j in pipeline.JOBS),
                        help="comma-separated job names (default: all, in dependency order)")
    parser.add_argument("--database", default=pipeline.DEFAULT_DATABASE)
    parser.add_argument("--report-json", type=Path, help="also write the run report here")
    parser.add_argument("--device-key-file", type=Path, default=None,
                        help="the key of the pseudonymous device ids, made if missing "
                             f"(default: {local_key.default_key_file()})")
    return parser.parse_args(argv)


def select_jobs(names: str) -> tuple[GlueJob, ...]:
    """The named jobs in dependency order, whatever order they were given in."""
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in {j.name for j in pipeline.JOBS}]
    if unknown or not wanted:
        raise CliError(f"unknown job {', '.join(unknown) or '(none given)'}; "
                       f"choose from {', '.join(j.name for j in pipeline.JOBS)}")
    return tuple(j for j in pipeline.dependency_order() if j.name in wanted)


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
    argv = [str(REPO_ROOT / job.script), "--JOB_NAME", job.name, "--lake_root", str(lake)]
    for name, value in options.items():
        argv += [f"--{name}", value]
    if job.reads_device_key:
        argv += ["--device_key", local_key.key_locator(device_key_file)]
    return argv


def load_job_module(job: GlueJob) -> ModuleType:
    """Import a Glue script as a module without running its main() (needs ``activate()``)."""
    spec = importlib.util.spec_from_file_location(f"glue_job_{job.name}", REPO_ROOT / job.script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


def count_outputs(spark, lake: Path) -> dict[str, int | None]:
    """Rows of every output table (Parquet footers hold them); None where not written yet."""
    counts: dict[str, int | None] = {}
    for table in pipeline.output_tables():
        location = Path(table.location(lake))
        if any(location.glob("*.parquet")):
            counts[table.name] = spark.read.parquet(str(location)).count()
        else:
            counts[table.name] = 0 if table_exists(lake, table) else None
    return counts


def render_counts(counts: dict[str, int | None], rejected: dict[str, int]) -> str:
    """A box table of the zones: one row per table, then the quarantined lines per source."""
    rows = [(t.name, t.zone, "-" if counts[t.name] is None else f"{counts[t.name]:,}")
            for t in pipeline.TABLES]
    rows.append(SECTION_BREAK)
    rows += [(f"{source} (quarantined)", "quarantine", f"{count:,}")
             for source, count in rejected.items()]
    return box_table(("table", "zone", "rows"), rows, right_aligned=frozenset({2}))


def write_report(report: dict, lake: Path, extra_path: Path | None) -> None:
    text = json.dumps(report, indent=2) + "\n"
    for path in [lake / "_reports" / "latest.json", *([extra_path] if extra_path else [])]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def run_pipeline(lake: Path, jobs: tuple[GlueJob, ...], options: dict[str, str], spark,
                 device_key_file: Path | None = None) -> dict:
    """Run ``jobs`` in order on one Spark session and return the run report (docs/design.md,
    "Run report").

    The device key file (default ``local_key.default_key_file()``) is made first if a job
    needs it and it does not exist yet."""
    from scripts._cli.progress import JobProgress

    key_file = device_key_file or local_key.default_key_file()
    try:
        made = any(job.reads_device_key for job in jobs) and local_key.ensure_key_file(key_file)
    except OSError as error:
        raise CliError(f"cannot make the device-id key {key_file}: {error}; pass "
                       "--device-key-file with a writable place") from error
    if made:
        print(f"made the device-id key {key_file} (readable by you only; keep it: the ids "
              "of machine_learning_curated are computed with it)", flush=True)
    seconds = {}
    for position, job in enumerate(jobs, start=1):
        seconds[job.name] = round(run_reported(
            glue_arguments(job, lake, options, key_file), lake, job.name,
            f"[{position}/{len(jobs)}] {job.name}", spark), 2)
    with JobProgress("counting the rows of every table", spark.sparkContext):
        landing, rejected, warnings = landing_counts(read_accounting(lake))
        outputs = count_outputs(spark, lake)
    return {"options": {"consent_mode": options["consent_mode"], "ml_match": options["ml_match"]},
            "tables": {t.name: landing.get(t.name, outputs.get(t.name)) for t in pipeline.TABLES},
            "rejected": rejected,
            "warnings": warnings,
            "seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(sys.argv[1:] if argv is None else argv)
    try:
        jobs = select_jobs(args.jobs)
        lake = args.lake.resolve()
        if not lake.is_dir():
            raise CliError(f"lake folder {args.lake} does not exist "
                           "(make run generates one; or python -m scripts.generate_data)")
        missing = missing_inputs(lake, jobs)
        if missing:
            raise CliError(f"missing input: {'; '.join(missing)}")
        options = pipeline.job_options(args.database, args.consent_mode, args.ml_match)

        started = time.perf_counter()
        from scripts.local_glue import activate
        from scripts.local_glue.session import (SHORT_RUN_BYTES, JavaNotFoundError,
                                                local_spark_session)

        activate()
        print(f"STEDI pipeline on {args.lake} (consent_mode={args.consent_mode}, "
              f"ml_match={args.ml_match})", flush=True)
        try:
            spark = local_spark_session(log_file=lake / "_logs" / "spark.log",
                                        short_run=landing_bytes(lake, jobs) < SHORT_RUN_BYTES)
        except JavaNotFoundError as error:
            raise CliError(str(error)) from error
        report = run_pipeline(lake, jobs, options, spark, args.device_key_file)
    except CliError as error:
        fail(str(error))
    write_report(report, lake, args.report_json)
    print(render_counts(report["tables"], report["rejected"]))
    if report["warnings"].get("shared_serial_numbers"):
        print(f"warning: {report['warnings']['shared_serial_numbers']} serial numbers belong to "
              "several customers (no zone multiplies their rows)")
    print(f"done in {time.perf_counter() - started:.1f}s; report: "
          f"{args.lake / '_reports' / 'latest.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
