"""Deploy the STEDI lakehouse to AWS: one idempotent command from a laptop.

    python -m scripts.deploy --bucket B [--region R] [--database stedi] [--role-name N]
        [--create-role] [--vpc-id V --route-table-id T] [--landing DIR] [--consent-mode M]
        [--ml-match M] [--glue-version {5.0,5.1,6.0,6.1}] [--schedule "cron(...)"] [--no-run]
        [--dry-run] [--endpoint-url URL]

Steps, each create-or-update and safe to repeat: the bucket (private, encrypted); optionally an
S3 gateway endpoint for a VPC and the Glue service role; the landing data and the five job
scripts (unchanged files are skipped); the Glue database and the eight tables of athena_ddl/
(through Athena); the five Glue jobs; a Glue workflow whose triggers chain the jobs; then,
unless --no-run, a run of the jobs in dependency order and every table's row count from Athena.
--dry-run prints every AWS call a deploy into a fresh account would make, and changes nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from scripts import ddl, pipeline
from scripts.aws import athena, ec2, glue, iam, s3
from scripts.aws.clients import AwsClients, AwsTarget
from scripts.aws.dry_run import DryRun
from scripts.aws.errors import DeployError
from scripts.local_glue.glue_versions import DEFAULT_GLUE_VERSION, GLUE_VERSIONS, glue_runtime
from scripts._cli.errors import CliError, OneLineArgumentParser, fail
from scripts._cli.text_table import SECTION_BREAK, box_table

REPO_ROOT = Path(__file__).resolve().parents[1]
SCRIPTS_PREFIX = "glue_scripts"
TEMP_PREFIX = "glue_temp"
DEFAULT_ROLE = "stedi-glue-service-role"
WORKER_TYPE = "G.1X"
WORKERS = 2
# Worker types of Glue Spark jobs and their DPUs (G.025X is for streaming jobs only). Always
# sent: a Glue 6.1 job created without one runs on arm64 (G.1X.GRAVITON) workers.
DPU_PER_WORKER = {"G.1X": 1, "G.2X": 2, "G.4X": 4, "G.8X": 8}
JOB_TIMEOUT_MINUTES = 30


@dataclass(frozen=True)
class DeployConfig:
    bucket: str
    database: str = pipeline.DEFAULT_DATABASE
    role_name: str = DEFAULT_ROLE
    create_role: bool = False
    vpc_id: str | None = None
    route_table_id: str | None = None
    landing: Path = Path("lake")
    consent_mode: str = pipeline.DEFAULT_CONSENT_MODE
    ml_match: str = pipeline.DEFAULT_ML_MATCH
    schedule: str | None = None
    run: bool = True
    dry_run: bool = False
    glue_version: str = DEFAULT_GLUE_VERSION
    worker_type: str = WORKER_TYPE
    workers: int = WORKERS
    job_workers: tuple[tuple[str, int], ...] = ()  # per-job overrides of ``workers``

    def workers_of(self, job_name: str) -> int:
        return dict(self.job_workers).get(job_name, self.workers)

    @property
    def lake_root(self) -> str:
        return f"s3://{self.bucket}"

    @property
    def workflow_name(self) -> str:
        return f"{self.database}-lakehouse"


# --- what deploy creates, derived from the pipeline definition -----------------------------------

def script_key(job: pipeline.GlueJob) -> str:
    return f"{SCRIPTS_PREFIX}/{Path(job.script).name}"


def spark_settings(config: DeployConfig, region: str) -> dict[str, str]:
    """Spark settings the jobs need on the chosen Glue version: on 5.1 and later, which read S3
    through S3A, the bucket's region (AWS's migration notes: without it uploads can time out)."""
    if glue_runtime(config.glue_version).s3a:
        return {"spark.hadoop.fs.s3a.endpoint.region": region}
    return {}


def conf_argument(settings: dict[str, str]) -> dict[str, str]:
    """Spark settings as Glue job arguments: Glue takes one --conf key, so further settings
    are chained in its value (k1=v1 --conf k2=v2)."""
    if not settings:
        return {}
    return {"--conf": " --conf ".join(f"{key}={value}" for key, value in settings.items())}


def job_definition(job: pipeline.GlueJob, config: DeployConfig, role_arn: str,
                   region: str) -> dict:
    """The Glue job as create_job / update_job take it (without the name)."""
    return {
        "Description": job.description,
        "Role": role_arn,
        "Command": {"Name": "glueetl", "PythonVersion": "3",
                    "ScriptLocation": f"{config.lake_root}/{script_key(job)}"},
        # Always sent: a job created without one gets whatever AWS's default is that day.
        "GlueVersion": config.glue_version,
        "WorkerType": config.worker_type,
        "NumberOfWorkers": config.workers_of(job.name),
        "Timeout": JOB_TIMEOUT_MINUTES,
        "MaxRetries": 0,
        "ExecutionProperty": {"MaxConcurrentRuns": 1},
        "DefaultArguments": {
            "--lake_root": config.lake_root,
            "--database": config.database,
            "--consent_mode": config.consent_mode,
            "--ml_match": config.ml_match,
            "--job-language": "python",
            "--TempDir": f"{config.lake_root}/{TEMP_PREFIX}/",
            "--enable-metrics": "true",
            "--enable-continuous-cloudwatch-log": "true",
            **conf_argument(spark_settings(config, region)),
        },
    }


def trigger_definitions(config: DeployConfig) -> list[dict]:
    """A start trigger for the jobs without upstream jobs, then one conditional trigger per
    other job that fires when all the jobs it reads from have succeeded."""
    first = [j for j in pipeline.dependency_order() if not pipeline.upstream_jobs(j.name)]
    start = {"Name": f"{config.workflow_name}-start", "WorkflowName": config.workflow_name,
             "Actions": [{"JobName": j.name} for j in first],
             "Description": "Starts the STEDI pipeline"}
    if config.schedule:
        start.update(Type="SCHEDULED", Schedule=config.schedule, StartOnCreation=True)
    else:
        start.update(Type="ON_DEMAND")
    triggers = [start]
    for job in pipeline.dependency_order():
        upstream = pipeline.upstream_jobs(job.name)
        if not upstream:
            continue
        triggers.append({
            "Name": f"{config.workflow_name}-{job.name}",
            "WorkflowName": config.workflow_name,
            "Type": "CONDITIONAL",
            "StartOnCreation": True,
            "Description": f"Runs {job.name} after {', '.join(u.name for u in upstream)}",
            "Predicate": {"Logical": "AND", "Conditions": [
                {"LogicalOperator": "EQUALS", "JobName": u.name, "State": "SUCCEEDED"}
                for u in upstream]},
            "Actions": [{"JobName": job.name}],
        })
    return triggers


def landing_files(landing: Path) -> list[tuple[Path, str]]:
    """(local file, S3 key) for every landing file, at the lake layout of DESIGN.md."""
    files = []
    for table in pipeline.landing_tables():
        folder = landing / table.path
        files += [(path, f"{table.path}/{path.relative_to(folder).as_posix()}")
                  for path in sorted(folder.rglob("*"))
                  if path.is_file() and not path.name.startswith(("_", "."))]
    return files


def dpu_hours(config: DeployConfig, execution_seconds: dict[str, int]) -> float:
    """Billed DPU-hours of job runs of the configured sizes (one-minute minimum per run)."""
    return sum(max(60, seconds) * config.workers_of(name) * DPU_PER_WORKER[config.worker_type]
               for name, seconds in execution_seconds.items()) / 3600


# --- the steps ---------------------------------------------------------------------------------

def say(message: str) -> None:
    print(message, flush=True)


def check_inputs(config: DeployConfig) -> list[tuple[Path, str]]:
    """Everything that can be checked before the first AWS call."""
    ddl.validate_names(config.bucket, config.database)
    if (config.vpc_id is None) != (config.route_table_id is None):
        raise CliError("--vpc-id and --route-table-id go together")
    files = landing_files(config.landing)
    if not files:
        raise CliError(f"no landing data under {config.landing}/: run `make run` (generates "
                       "the default data), `make data-udacity`, or pass --landing DIR")
    return files


def deploy_storage(aws: AwsClients, config: DeployConfig) -> None:
    account = aws("sts").get_caller_identity()["Account"]
    say(f"AWS account {account}, region {aws.region}")
    created = s3.ensure_bucket(aws("s3"), config.bucket, aws.region)
    say(f"✓ bucket s3://{config.bucket} {'created' if created else 'exists'}: "
        "public access blocked, encrypted (SSE-S3)")
    if config.vpc_id:
        endpoint, created = ec2.ensure_s3_endpoint(aws("ec2"), config.vpc_id,
                                                   config.route_table_id, aws.region)
        say(f"✓ S3 gateway endpoint {endpoint} {'created' if created else 'exists'} "
            f"in {config.vpc_id}")


def deploy_role(aws: AwsClients, config: DeployConfig) -> str:
    if config.create_role:
        arn, created = iam.ensure_glue_role(aws("iam"), config.role_name, config.bucket)
        say(f"✓ role {config.role_name} {'created' if created else 'updated'}")
        return arn
    arn = iam.role_arn(aws("iam"), config.role_name)
    say(f"✓ role {config.role_name} exists")
    return arn


def upload_all(aws: AwsClients, config: DeployConfig, files: list[tuple[Path, str]]) -> None:
    uploads = files + [(REPO_ROOT / j.script, script_key(j)) for j in pipeline.JOBS]
    sent = skipped = 0
    for position, (path, key) in enumerate(uploads, start=1):
        result = s3.upload_if_changed(aws("s3"), path, config.bucket, key)
        sent, skipped = sent + result.uploaded, skipped + (not result.uploaded)
        verb = "uploaded" if result.uploaded else "unchanged"
        say(f"  [{position}/{len(uploads)}] {verb:9} s3://{config.bucket}/{key} "
            f"({result.size:,} bytes)")
    say(f"✓ {sent} files uploaded, {skipped} unchanged")


def deploy_catalog(aws: AwsClients, config: DeployConfig) -> None:
    created = glue.ensure_database(aws("glue"), config.database,
                                   "STEDI Human Balance Analytics lakehouse")
    say(f"✓ Glue database {config.database} {'created' if created else 'exists'}")
    for name, text in ddl.render_all(config.bucket, config.database).items():
        # Drop and create, so that a changed DDL file takes effect; the data stays in S3.
        athena.run_statement(aws("athena"), f"DROP TABLE IF EXISTS `{config.database}`.`{name}`",
                             config.database, config.bucket)
        athena.run_statement(aws("athena"), ddl.statement(text), config.database, config.bucket)
        say(f"  table {config.database}.{name} created from athena_ddl/{name}.sql")
    say(f"✓ {len(pipeline.TABLES)} tables created through Athena")


def deploy_jobs(aws: AwsClients, config: DeployConfig, role_arn: str) -> None:
    for job in pipeline.JOBS:
        outcome = glue.ensure_job(aws("glue"), job.name,
                                  job_definition(job, config, role_arn, aws.region))
        say(f"  job {job.name} {outcome}")
    sizes = ", ".join(f"{j.name} {config.workers_of(j.name)}" for j in pipeline.JOBS)
    say(f"✓ {len(pipeline.JOBS)} Glue jobs (Glue {config.glue_version}, {config.worker_type} "
        f"workers: {sizes})")
    created = glue.ensure_workflow(aws("glue"), config.workflow_name,
                                   "STEDI pipeline: landing to curated")
    for trigger in trigger_definitions(config):
        outcome = glue.ensure_trigger(aws("glue"), trigger)
        say(f"  trigger {trigger['Name']} {outcome}")
    say(f"✓ workflow {config.workflow_name} {'created' if created else 'updated'}"
        + (f", scheduled {config.schedule}" if config.schedule else ""))


def run_jobs(aws: AwsClients, config: DeployConfig) -> dict[str, int]:
    """Run the jobs one after the other; returns each run's execution time in seconds."""
    seconds = {}
    jobs = pipeline.dependency_order()
    for position, job in enumerate(jobs, start=1):
        started = time.monotonic()
        run_id = glue.start_job_run(aws("glue"), job.name, {})
        label = f"  [{position}/{len(jobs)}] {job.name}"
        run = glue.wait_for_job_run(
            aws("glue"), job.name, run_id, timeout_seconds=JOB_TIMEOUT_MINUTES * 60 + 300,
            on_state=lambda state: say(f"{label} {state} ({time.monotonic() - started:.0f} s)"))
        seconds[job.name] = int(run.get("ExecutionTime", 0))
    say(f"✓ {len(jobs)} jobs succeeded")
    return seconds


def table_counts(aws: AwsClients, config: DeployConfig) -> dict[str, str]:
    return {t.name: athena.scalar(aws("athena"), f"select count(*) from {t.name}",
                                  config.database, config.bucket) or "no result"
            for t in pipeline.TABLES}


def quarantined_counts(aws: AwsClients, config: DeployConfig) -> dict[str, str]:
    """Quarantined records per source, from the accounting each landing job wrote to S3."""
    counts = {}
    for source in pipeline.SOURCES:
        accounting = s3.read_json(aws("s3"), config.bucket, pipeline.accounting_path(source))
        counts[source] = f"{accounting['quarantined']:,}" if accounting else "no result"
    return counts


def planned_steps(config: DeployConfig, files: list[tuple[Path, str]]) -> list[str]:
    """The deploy's steps in words, shown before the first AWS call."""
    steps = [f"bucket s3://{config.bucket}: create if absent, block public access, encrypt"]
    if config.vpc_id:
        steps.append(f"S3 gateway endpoint in {config.vpc_id} for {config.route_table_id}")
    steps.append(f"IAM role {config.role_name}: "
                 + ("create or update with its policies" if config.create_role else "must exist"))
    steps.append(f"upload {len(files)} landing files and {len(pipeline.JOBS)} job scripts "
                 "(unchanged files skipped)")
    steps.append(f"Glue database {config.database} and {len(pipeline.TABLES)} tables "
                 "from athena_ddl/ through Athena")
    steps.append(f"{len(pipeline.JOBS)} Glue {config.glue_version} jobs and workflow "
                 f"{config.workflow_name}"
                 + (f" scheduled {config.schedule}" if config.schedule else ""))
    if config.run:
        steps.append("run the jobs in dependency order, then count every table in Athena")
    return steps


def print_summary(config: DeployConfig, counts: dict[str, str], quarantined: dict[str, str],
                  seconds: dict[str, int]) -> None:
    rows = [*counts.items(), SECTION_BREAK,
            *[(f"{source} (quarantined)", count) for source, count in quarantined.items()]]
    say(box_table(("table", "rows (Athena)"), rows, frozenset({1})))
    hours = dpu_hours(config, seconds)
    price = glue_runtime(config.glue_version).price_per_dpu_hour
    cost = (f" ≈ ${hours * price:.2f} at ${price}/DPU-hour" if price is not None else
            f" (no published price for Glue {config.glue_version} was found: see AWS Glue pricing)")
    say(f"Glue usage of this run: {hours:.3f} DPU-hours{cost}")
    say(f"Lake s3://{config.bucket}, database {config.database}, workflow "
        f"{config.workflow_name}. Query it in Athena, e.g. select count(*) from "
        f"{config.database}.machine_learning_curated; tear it down with "
        f"`make destroy BUCKET={config.bucket}`.")


def deploy(aws: AwsClients, config: DeployConfig) -> None:
    files = check_inputs(config)
    if config.workers < 2:
        raise CliError("--workers must be at least 2 (Glue's minimum for Spark jobs)")
    say("Plan:")
    for number, step in enumerate(planned_steps(config, files), start=1):
        say(f"  {number}. {step}")
    deploy_storage(aws, config)
    role_arn = deploy_role(aws, config)
    upload_all(aws, config, files)
    deploy_catalog(aws, config)
    deploy_jobs(aws, config, role_arn)
    if not config.run:
        say("Jobs not run (--no-run): start the workflow with "
            f"`aws glue start-workflow-run --name {config.workflow_name}`")
        return
    seconds = run_jobs(aws, config)
    counts = table_counts(aws, config)
    if not config.dry_run:
        print_summary(config, counts, quarantined_counts(aws, config), seconds)


# --- command line ------------------------------------------------------------------------------

def parse_arguments(argv: list[str]):
    parser = OneLineArgumentParser(prog="deploy", description=__doc__.split("\n\n")[0])
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--region", help="default: the AWS profile's or environment's region")
    parser.add_argument("--profile", help="AWS profile (default: the standard AWS environment)")
    parser.add_argument("--database", default=pipeline.DEFAULT_DATABASE)
    parser.add_argument("--role-name", default=DEFAULT_ROLE)
    parser.add_argument("--create-role", action="store_true",
                        help="create or update the Glue service role and its policies")
    parser.add_argument("--vpc-id")
    parser.add_argument("--route-table-id")
    parser.add_argument("--landing", type=Path, default=Path("lake"),
                        help="local lake whose <source>/landing/ folders are uploaded")
    parser.add_argument("--consent-mode", choices=pipeline.CONSENT_MODES,
                        default=pipeline.DEFAULT_CONSENT_MODE)
    parser.add_argument("--ml-match", choices=pipeline.ML_MATCHES,
                        default=pipeline.DEFAULT_ML_MATCH)
    parser.add_argument("--glue-version", choices=GLUE_VERSIONS, default=DEFAULT_GLUE_VERSION,
                        help=f"AWS Glue version of the jobs (default {DEFAULT_GLUE_VERSION})")
    parser.add_argument("--worker-type", choices=sorted(DPU_PER_WORKER), default=WORKER_TYPE)
    parser.add_argument("--workers", type=int, default=WORKERS,
                        help="workers per job (Glue's minimum is 2)")
    parser.add_argument("--job-workers", type=job_workers, default=(),
                        help="per-job workers, e.g. accelerometer_landing_to_trusted=4,"
                             "step_trainer_trusted=4")
    parser.add_argument("--schedule", help='run the workflow on a schedule: "cron(0 3 * * ? *)"')
    parser.add_argument("--no-run", action="store_true", help="deploy without running the jobs")
    parser.add_argument("--dry-run", action="store_true",
                        help="print every AWS call a deploy would make; change nothing")
    parser.add_argument("--endpoint-url", help="send every AWS call here (e.g. a moto server)")
    return parser.parse_args(argv)


def job_workers(text: str) -> tuple[tuple[str, int], ...]:
    """Parse NAME=N[,NAME=N]; argparse turns ArgumentTypeError into one line."""
    pairs = []
    for item in filter(None, text.split(",")):
        name, _, count = item.partition("=")
        if name not in {j.name for j in pipeline.JOBS}:
            raise argparse.ArgumentTypeError(f"unknown job {name!r} in {item!r}")
        if not count.isdigit() or int(count) < 2:
            raise argparse.ArgumentTypeError(f"{item}: workers must be a whole number, 2 or more")
        pairs.append((name, int(count)))
    return tuple(pairs)


def config_from(args) -> DeployConfig:
    return DeployConfig(bucket=args.bucket, database=args.database, role_name=args.role_name,
                        create_role=args.create_role, vpc_id=args.vpc_id,
                        route_table_id=args.route_table_id, landing=args.landing,
                        consent_mode=args.consent_mode, ml_match=args.ml_match,
                        schedule=args.schedule, run=not args.no_run, dry_run=args.dry_run,
                        glue_version=args.glue_version, worker_type=args.worker_type,
                        workers=args.workers, job_workers=args.job_workers)


def dry_run_assumptions(args) -> dict[tuple[str, str], dict]:
    """What a dry run takes as already there: a role it is told to use but not to create."""
    if args.create_role:
        return {}
    arn = f"arn:aws:iam::000000000000:role/{args.role_name}"
    return {("iam", "GetRole"): {"Role": {"RoleName": args.role_name, "Arn": arn}}}


def print_plan(plan: DryRun) -> None:
    say(f"\nAWS calls: {len(plan.calls)} (dry run: nothing was sent)")
    for number, call in enumerate(plan.calls, start=1):
        say(f"{number:4}. {call.describe()}")


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(sys.argv[1:] if argv is None else argv)
    plan = DryRun(existing=dry_run_assumptions(args)) if args.dry_run else None
    aws = AwsClients(AwsTarget(args.region, args.endpoint_url, args.profile),
                     on_new_client=plan.attach if plan else None)
    if plan:
        say("DRY RUN: no request is sent to AWS. The steps show what a deploy into an account "
            "where none of this exists yet does; the plan of AWS calls follows.")
    try:
        deploy(aws, config_from(args))
    except (CliError, DeployError) as error:
        fail(str(error))
    if plan:
        print_plan(plan)
    return 0


if __name__ == "__main__":
    sys.exit(main())
