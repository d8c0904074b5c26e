"""Run the unchanged Glue scripts of glue_jobs/ on a local lake, in dependency order.

    python -m scripts.run_local --lake DIR [--consent-mode M] [--ml-match M] [--jobs a,b]
                                [--database stedi] [--report-json FILE] [--device-key-file F]

Each script is executed as Glue executes it: as ``__main__`` with a fresh ``sys.argv`` of Glue job
arguments, importing ``awsglue`` (the local runtime, scripts/local_glue/runner.py). All jobs share
one Spark session, so the JVM starts once. At the end a table of the row counts of all eight
tables and the quarantined lines is printed, and the run report is written to
``<lake>/_reports/latest.json`` (and to ``--report-json``). The key of machine_learning_curated's
pseudonymous device ids is a file outside the lake, made on the first run
(scripts/lake/local_device_key.py).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from scripts._cli.errors import CliError, OneLineArgumentParser, fail
from scripts._cli.text_table import SECTION_BREAK, box_table
from scripts.lake import local_device_key, pipeline
from scripts.lake.pipeline import GlueJob
from scripts.local_glue.glue_process import landing_bytes
from scripts.local_glue.runner import missing_inputs, run_pipeline, write_report


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
    parser.add_argument("--dq-override", action="store_true",
                        help="publish even data that fails the data-quality gates (a change "
                             "you mean: a real drop in customers, a new export format)")
    parser.add_argument("--device-key-file", type=Path, default=None,
                        help="the key of the pseudonymous device ids, made if missing "
                             f"(default: {local_device_key.default_key_file()})")
    return parser.parse_args(argv)


def select_jobs(names: str) -> tuple[GlueJob, ...]:
    """The named jobs in dependency order, whatever order they were given in."""
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in {j.name for j in pipeline.JOBS}]
    if unknown or not wanted:
        raise CliError(f"unknown job {', '.join(unknown) or '(none given)'}; "
                       f"choose from {', '.join(j.name for j in pipeline.JOBS)}")
    return tuple(j for j in pipeline.dependency_order() if j.name in wanted)


def render_counts(counts: dict[str, int | None], rejected: dict[str, int]) -> str:
    """A box table of the zones: one row per table, then the quarantined lines per source."""
    rows = [(t.name, t.zone, "-" if counts[t.name] is None else f"{counts[t.name]:,}")
            for t in pipeline.TABLES]
    rows.append(SECTION_BREAK)
    rows += [(f"{source} (quarantined)", "quarantine", f"{count:,}")
             for source, count in rejected.items()]
    return box_table(("table", "zone", "rows"), rows, right_aligned=frozenset({2}))


def render_data_quality(results: dict[str, list[dict]]) -> str:
    """A box table of the data-quality gates this run evaluated: rules passed and failed."""
    rows = [(context, f"{sum(r['Outcome'] == 'Passed' for r in rules)}",
             f"{sum(r['Outcome'] != 'Passed' for r in rules)}")
            for context, rules in results.items()]
    return box_table(("data-quality gate", "rules passed", "failed"), rows,
                     right_aligned=frozenset({1, 2}))


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
        options = pipeline.job_options(args.database, args.consent_mode, args.ml_match,
                                       args.dq_override)

        started = time.perf_counter()
        from scripts.local_glue import activate
        from scripts.local_glue.session import (
            SHORT_RUN_BYTES,
            JavaNotFoundError,
            local_spark_session,
        )

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
    if report["data_quality"]:
        print(render_data_quality(report["data_quality"]))
        print(f"every rule's result: table {pipeline.DATA_QUALITY_TABLE.name} "
              "(make query; docs/athena.md)")
    if report["warnings"].get("shared_serial_numbers"):
        print(f"warning: {report['warnings']['shared_serial_numbers']} serial numbers belong to "
              "several customers (no zone multiplies their rows)")
    print(f"done in {time.perf_counter() - started:.1f}s; report: "
          f"{args.lake / '_reports' / 'latest.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
