"""Deploy the STEDI lakehouse to AWS: one idempotent command from a laptop.

    python -m scripts.deploy --bucket B [--region R] [--database stedi] [--role-name N]
        [--create-role [--adopt-role]] [--vpc-id V --route-table-id T] [--landing DIR]
        [--consent-mode M] [--ml-match M] [--glue-version {5.0,5.1,6.0,6.1}]
        [--schedule "cron(...)"] [--notify EMAIL ...] [--no-run] [--dry-run]
        [--endpoint-url URL]
    python -m scripts.deploy --print-deployer-policy [--bucket B] [--region R] [...]

Steps, each create-or-update and safe to repeat: the bucket (private, encrypted, TLS only, its
scratch prefixes expiring); optionally an S3 gateway endpoint for a VPC and the Glue service
role; the SSM SecureString holding the key of machine_learning_curated's device ids (made once,
never overwritten); the landing data and the five job scripts (unchanged files are skipped);
the lake's own Athena workgroup (results in the bucket, enforced); the Glue database and the
twelve tables of athena_ddl/ (through Athena); the five Glue jobs; a Glue workflow whose
triggers chain the jobs; the alerts: an SNS topic and an EventBridge rule that sends it every
failed run of the jobs and every failed data-quality evaluation in them, with an email
subscription per --notify (confirmed by its owner from SNS's email); then, unless --no-run,
a run of the workflow (or the run already in progress), followed job by job, and every table's
row count from Athena. Every S3 call but CreateBucket carries ExpectedBucketOwner. --dry-run
prints every AWS call a deploy into a fresh account would make, and changes nothing.
--print-deployer-policy prints the IAM policy that the principal running deploy and destroy
needs, and nothing else.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from scripts._cli.email_address import InvalidEmailError, checked_email
from scripts._cli.errors import CliError, OneLineArgumentParser, fail
from scripts._cli.text_table import SECTION_BREAK, box_table
from scripts.aws import athena, ec2, events, glue, iam, s3, sns, ssm
from scripts.aws.clients import AwsClients, AwsTarget
from scripts.aws.deploy_config import (
    DEFAULT_ROLE,
    DPU_PER_WORKER,
    EXPIRING_PREFIXES_DAYS,
    IAM_SETTLE_SECONDS,
    WORKER_TYPE,
    WORKERS,
    DeployConfig,
    dpu_hours,
    job_definition,
    script_key,
    trigger_definitions,
)
from scripts.aws.deployer_policy import deployer_policy
from scripts.aws.dry_run import DryRun
from scripts.aws.errors import DeployError
from scripts.aws.workflow import run_workflow, say
from scripts.lake import athena_ddl, pipeline
from scripts.local_glue.glue_versions import DEFAULT_GLUE_VERSION, GLUE_VERSIONS, glue_runtime

REPO_ROOT = Path(__file__).resolve().parents[1]


def landing_files(landing: Path) -> list[tuple[Path, str]]:
    """(local file, S3 key) for every landing file, at the lake layout (docs/design.md,
    "Lake layout")."""
    files = []
    for table in pipeline.landing_tables():
        folder = landing / table.path
        files += [(path, f"{table.path}/{path.relative_to(folder).as_posix()}")
                  for path in sorted(folder.rglob("*"))
                  if path.is_file() and not path.name.startswith(("_", "."))]
    return files


# --- the steps ---------------------------------------------------------------------------------

def check_inputs(config: DeployConfig) -> list[tuple[Path, str]]:
    """Everything that can be checked before the first AWS call."""
    athena_ddl.validate_names(config.bucket, config.database)
    if (config.vpc_id is None) != (config.route_table_id is None):
        raise CliError("--vpc-id and --route-table-id go together")
    files = landing_files(config.landing)
    if not files:
        raise CliError(f"no landing data under {config.landing}/: run `make run` (generates "
                       "the default data), `make data-udacity`, or pass --landing DIR")
    return files


def deploy_storage(aws: AwsClients, config: DeployConfig) -> str:
    """The bucket and the VPC endpoint; returns the account id."""
    with aws.doing("reading the caller's AWS account"):
        account = aws.account()  # from now on, every S3 call expects this owner
    say(f"AWS account {account}, region {aws.region}")
    with aws.doing(f"creating or securing bucket {config.bucket}"):
        created = s3.ensure_bucket(aws("s3"), config.bucket, aws.region, account,
                                   EXPIRING_PREFIXES_DAYS)
    expiry = ", ".join(f"{prefix} after {days} days"
                       for prefix, days in EXPIRING_PREFIXES_DAYS.items())
    say(f"✓ bucket s3://{config.bucket} {'created' if created else 'exists'}: "
        f"public access blocked, encrypted (SSE-S3), TLS only; expiring {expiry}")
    if config.vpc_id:
        with aws.doing(f"creating the S3 gateway endpoint in {config.vpc_id}"):
            endpoint, created = ec2.ensure_s3_endpoint(aws("ec2"), config.vpc_id,
                                                       config.route_table_id, aws.region)
        say(f"✓ S3 gateway endpoint {endpoint} {'created' if created else 'exists'} "
            f"in {config.vpc_id}")
    return account


def device_key_arn(config: DeployConfig, region: str, account: str) -> str:
    return ssm.parameter_arn(region, account, ssm.device_key_parameter(config.database))


def role_policies(config: DeployConfig, region: str, account: str) -> dict[str, dict]:
    """The service role's inline policies by name."""
    return {iam.S3_POLICY_NAME: iam.s3_access_policy(config.bucket),
            iam.GLUE_POLICY_NAME: iam.glue_access_policy(region, account, config.database),
            iam.DEVICE_KEY_POLICY_NAME: iam.device_key_policy(
                device_key_arn(config, region, account))}


def deploy_device_key(aws: AwsClients, config: DeployConfig) -> None:
    name = ssm.device_key_parameter(config.database)
    with aws.doing(f"creating the device-id key parameter {name}"):
        created = ssm.ensure_device_key(aws("ssm"), name)
    say(f"✓ device-id key {name} {'created' if created else 'exists (kept: ids stay stable)'}"
        ": an SSM SecureString only the jobs' role may read")


def deploy_role(aws: AwsClients, config: DeployConfig, account: str) -> tuple[str, float | None]:
    """The role's ARN, and when (time.monotonic) deploy last changed it, or None."""
    if config.create_role:
        with aws.doing(f"creating or updating IAM role {config.role_name}"):
            arn, outcome = iam.ensure_glue_role(aws("iam"), config.role_name,
                                                role_policies(config, aws.region, account),
                                                adopt=config.adopt_role)
        say(f"✓ role {config.role_name} {outcome}")
        return arn, (None if outcome == "unchanged" else time.monotonic())
    with aws.doing(f"reading IAM role {config.role_name}"):
        arn = iam.role_arn(aws("iam"), config.role_name)
    say(f"✓ role {config.role_name} exists")
    return arn, None


def let_iam_settle(config: DeployConfig, role_changed_at: float | None) -> None:
    """Wait until the role change is iam_settle_seconds old (IAM_SETTLE_SECONDS)."""
    if role_changed_at is None or config.dry_run:
        return
    remaining = role_changed_at + config.iam_settle_seconds - time.monotonic()
    if remaining > 0:
        say(f"  waiting {remaining:.0f} s for the role's change to reach Glue (IAM is "
            "eventually consistent)")
        time.sleep(remaining)


def upload_all(aws: AwsClients, config: DeployConfig, files: list[tuple[Path, str]]) -> None:
    uploads = files + [(REPO_ROOT / j.script, script_key(j)) for j in pipeline.JOBS]
    sent = skipped = 0
    for position, (path, key) in enumerate(uploads, start=1):
        with aws.doing(f"uploading {path} to s3://{config.bucket}/{key}"):
            result = s3.upload_if_changed(aws("s3"), path, config.bucket, key)
        sent, skipped = sent + result.uploaded, skipped + (not result.uploaded)
        verb = "uploaded" if result.uploaded else "unchanged"
        say(f"  [{position}/{len(uploads)}] {verb:9} s3://{config.bucket}/{key} "
            f"({result.size:,} bytes)")
    say(f"✓ {sent} files uploaded, {skipped} unchanged")


def deploy_workgroup(aws: AwsClients, config: DeployConfig) -> None:
    with aws.doing(f"creating Athena workgroup {config.workgroup}"):
        outcome = athena.ensure_workgroup(aws("athena"), config.workgroup, config.bucket)
    say(f"✓ Athena workgroup {config.workgroup} {outcome}: results in "
        f"{athena.results_location(config.bucket)}, enforced for every query")


def deploy_catalog(aws: AwsClients, config: DeployConfig) -> None:
    with aws.doing(f"creating Glue database {config.database}"):
        created = glue.ensure_database(aws("glue"), config.database,
                                       "STEDI Human Balance Analytics lakehouse")
    say(f"✓ Glue database {config.database} {'created' if created else 'exists'}")
    # athena_ddl/ in its one order (athena_ddl.ddl_files_in_order), as the console user runs it.
    for name, text in athena_ddl.render_in_order(config.bucket, config.database):
        if name == athena_ddl.DATABASE_DDL:  # CREATE DATABASE IF NOT EXISTS: nothing to drop
            with aws.doing(f"running athena_ddl/{name}.sql through Athena"):
                athena.run_statement(aws("athena"), athena_ddl.statement(text), config.database,
                                     config.bucket)
            continue
        # Drop and create, so that a changed DDL file takes effect; the data stays in S3.
        with aws.doing(f"creating table {config.database}.{name} through Athena"):
            athena.run_statement(aws("athena"),
                                 f"DROP TABLE IF EXISTS `{config.database}`.`{name}`",
                                 config.database, config.bucket)
            athena.run_statement(aws("athena"), athena_ddl.statement(text), config.database,
                                 config.bucket)
        say(f"  table {config.database}.{name} created from athena_ddl/{name}.sql")
    say(f"✓ {len(pipeline.CATALOG_TABLES)} tables created through Athena "
        f"({len(pipeline.QUARANTINE_TABLES)} of them for the quarantined records, one for the "
        "data-quality results)")


def deploy_jobs(aws: AwsClients, config: DeployConfig, role_arn: str, account: str) -> None:
    key_arn = device_key_arn(config, aws.region, account)
    for job in pipeline.JOBS:
        with aws.doing(f"creating or updating Glue job {job.name}"):
            outcome = glue.ensure_job(aws("glue"), job.name,
                                      job_definition(job, config, role_arn, aws.region, key_arn))
        say(f"  job {job.name} {outcome}")
    sizes = ", ".join(f"{j.name} {config.workers_of(j.name)}" for j in pipeline.JOBS)
    say(f"✓ {len(pipeline.JOBS)} Glue jobs (Glue {config.glue_version}, {config.worker_type} "
        f"workers: {sizes})")
    with aws.doing(f"creating Glue workflow {config.workflow_name}"):
        created = glue.ensure_workflow(aws("glue"), config.workflow_name,
                                       "STEDI pipeline: landing to curated")
    for trigger in trigger_definitions(config):
        with aws.doing(f"creating or updating Glue trigger {trigger['Name']}"):
            outcome = glue.ensure_trigger(aws("glue"), trigger)
        say(f"  trigger {trigger['Name']} {outcome}")
    say(f"✓ workflow {config.workflow_name} {'created' if created else 'updated'}"
        + (f", scheduled {config.schedule}" if config.schedule else ""))


def deploy_alerts(aws: AwsClients, config: DeployConfig, account: str) -> None:
    """The alerts topic, the rule that feeds it, and the --notify subscriptions. Made before the
    first run, so that a failure of that run is mailed too (once a subscription is confirmed)."""
    topic = sns.topic_arn(aws.region, account, config.alerts_topic)
    with aws.doing(f"creating or updating SNS topic {config.alerts_topic}"):
        topic_outcome = sns.ensure_topic(aws("sns"), config.alerts_topic, topic)
    say(f"  topic {config.alerts_topic} {topic_outcome}")
    pattern = events.failure_event_pattern(job.name for job in pipeline.JOBS)
    definition = events.rule_definition(
        config.failures_rule, pattern,
        f"A failed run or data-quality evaluation of the {config.database} lakehouse's jobs")
    with aws.doing(f"creating or updating EventBridge rule {config.failures_rule}"):
        rule_outcome = events.ensure_rule(
            aws("events"), definition, events.rule_arn(aws.region, account, config.failures_rule))
        target_outcome = events.ensure_target(aws("events"), config.failures_rule,
                                              events.alerts_target(topic))
    say(f"  rule {config.failures_rule} {rule_outcome}, its target the topic {target_outcome}")
    for address in config.notify:
        with aws.doing(f"subscribing {address} to SNS topic {config.alerts_topic}"):
            state = sns.ensure_email_subscription(aws("sns"), topic, address)
        say(f"  {address}: " + {
            "subscribed": "subscribed; SNS mails a link to confirm, and sends nothing before",
            "pending confirmation": "subscribed before, not confirmed yet (see SNS's email)",
            "confirmed": "subscribed and confirmed"}[state])
    say(f"✓ alerts: failed job runs and data-quality evaluations go to SNS topic "
        f"{config.alerts_topic}")


def table_counts(aws: AwsClients, config: DeployConfig) -> dict[str, str]:
    with aws.doing("counting every table's rows in Athena"):
        return {t.name: athena.scalar(aws("athena"), f"select count(*) from {t.name}",
                                      config.database, config.bucket) or "no result"
                for t in pipeline.TABLES}


def quarantined_counts(aws: AwsClients, config: DeployConfig) -> dict[str, str]:
    """Quarantined records per source, from the accounting each landing job wrote to S3."""
    counts = {}
    for source in pipeline.SOURCES:
        with aws.doing(f"reading the record accounting of {source}"):
            accounting = s3.read_json(aws("s3"), config.bucket,
                                      pipeline.accounting_path(source))
        counts[source] = f"{accounting['quarantined']:,}" if accounting else "no result"
    return counts


def planned_steps(config: DeployConfig, files: list[tuple[Path, str]]) -> list[str]:
    """The deploy's steps in words, shown before the first AWS call."""
    steps = [f"bucket s3://{config.bucket}: create if absent, block public access, encrypt, "
             "TLS only, scratch prefixes expiring"]
    if config.vpc_id:
        steps.append(f"S3 gateway endpoint in {config.vpc_id} for {config.route_table_id}")
    steps.append(f"IAM role {config.role_name}: "
                 + ("create or update with its policies" if config.create_role else "must exist"))
    steps.append(f"SSM SecureString {ssm.device_key_parameter(config.database)}: the key of "
                 "the pseudonymous device ids, created if absent, never overwritten")
    steps.append(f"upload {len(files)} landing files and {len(pipeline.JOBS)} job scripts "
                 "(unchanged files skipped)")
    steps.append(f"Athena workgroup {config.workgroup}: results in "
                 f"{athena.results_location(config.bucket)}, enforced")
    steps.append(f"Glue database {config.database} and {len(pipeline.CATALOG_TABLES)} tables "
                 "from athena_ddl/ through Athena")
    steps.append(f"{len(pipeline.JOBS)} Glue {config.glue_version} jobs and workflow "
                 f"{config.workflow_name}"
                 + (f" scheduled {config.schedule}" if config.schedule else ""))
    steps.append(f"alerts: SNS topic {config.alerts_topic} and EventBridge rule "
                 f"{config.failures_rule} (failed runs and data-quality evaluations of the "
                 "jobs)" + (f", email subscriptions for {', '.join(config.notify)}"
                            if config.notify else ""))
    if config.run:
        steps.append(f"run workflow {config.workflow_name} and follow its jobs, then count "
                     "every table in Athena")
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
    account = deploy_storage(aws, config)
    role_arn, role_changed_at = deploy_role(aws, config, account)
    deploy_device_key(aws, config)
    upload_all(aws, config, files)
    deploy_workgroup(aws, config)
    deploy_catalog(aws, config)
    deploy_jobs(aws, config, role_arn, account)
    deploy_alerts(aws, config, account)
    if not config.run:
        say("Jobs not run (--no-run): start the workflow with "
            f"`aws glue start-workflow-run --name {config.workflow_name}`")
        return
    let_iam_settle(config, role_changed_at)
    seconds = run_workflow(aws, config)
    counts = table_counts(aws, config)
    if not config.dry_run:
        print_summary(config, counts, quarantined_counts(aws, config), seconds)


# --- command line ------------------------------------------------------------------------------

def parse_arguments(argv: list[str]):
    parser = OneLineArgumentParser(prog="deploy", description=__doc__.split("\n\n")[0])
    parser.add_argument("--bucket", help="the lake's bucket (required but for "
                                         "--print-deployer-policy)")
    parser.add_argument("--region", help="default: the AWS profile's or environment's region")
    parser.add_argument("--profile", help="AWS profile (default: the standard AWS environment)")
    parser.add_argument("--database", default=pipeline.DEFAULT_DATABASE)
    parser.add_argument("--role-name", default=DEFAULT_ROLE)
    parser.add_argument("--create-role", action="store_true",
                        help="create the Glue service role with its policies, or update the "
                             "one deploy created")
    parser.add_argument("--adopt-role", action="store_true",
                        help="with --create-role: also rewrite an existing role that deploy did "
                             "not create (its trust policy and deploy's inline policies)")
    parser.add_argument("--iam-settle", type=float, default=IAM_SETTLE_SECONDS, metavar="SECONDS",
                        help="after creating or changing the role, wait until it is this old "
                             f"before the first run (default {IAM_SETTLE_SECONDS:.0f})")
    parser.add_argument("--print-deployer-policy", action="store_true",
                        help="print the IAM policy the principal running deploy and destroy "
                             "needs, and exit")
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
    parser.add_argument("--notify", action="append", type=notify_address, default=[],
                        metavar="EMAIL",
                        help="mail the alerts (a failed job run or data-quality evaluation) to "
                             "this address, which confirms from SNS's email; repeatable")
    parser.add_argument("--no-run", action="store_true", help="deploy without running the jobs")
    parser.add_argument("--dry-run", action="store_true",
                        help="print every AWS call a deploy would make; change nothing")
    parser.add_argument("--endpoint-url", help="send every AWS call here (e.g. a moto server)")
    return parser.parse_args(argv)


def notify_address(text: str) -> str:
    """An address for --notify, by the rule forget's --email follows; argparse turns
    ArgumentTypeError into one line."""
    try:
        return checked_email(text)
    except InvalidEmailError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


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
    if not args.bucket:
        raise CliError("deploy: the following arguments are required: --bucket (see --help)")
    if args.adopt_role and not args.create_role:
        raise CliError("--adopt-role goes with --create-role")
    if args.iam_settle < 0:
        raise CliError("--iam-settle must be 0 or more seconds")
    return DeployConfig(bucket=args.bucket, database=args.database, role_name=args.role_name,
                        create_role=args.create_role, adopt_role=args.adopt_role,
                        iam_settle_seconds=args.iam_settle, vpc_id=args.vpc_id,
                        route_table_id=args.route_table_id, landing=args.landing,
                        consent_mode=args.consent_mode, ml_match=args.ml_match,
                        schedule=args.schedule, run=not args.no_run, dry_run=args.dry_run,
                        glue_version=args.glue_version, worker_type=args.worker_type,
                        workers=args.workers, job_workers=args.job_workers,
                        notify=tuple(dict.fromkeys(args.notify)))


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


def print_deployer_policy(args) -> None:
    """The deployer's policy as JSON on stdout; where the bucket or region is not given, the
    policy covers any (a note on stderr says so). The account is left as '*': printing needs
    no credentials."""
    bucket = args.bucket or "*"
    region = args.region or "*"
    if not args.bucket or not args.region:
        print("note: without --bucket and --region the policy allows any bucket name and "
              "region: pass them to scope it", file=sys.stderr)
    else:
        athena_ddl.validate_names(bucket, args.database)
    workflow = DeployConfig(bucket, database=args.database).workflow_name
    policy = deployer_policy(bucket, args.database, args.role_name, workflow, region, "*",
                             vpc=bool(args.vpc_id))
    print(json.dumps(policy, indent=2))


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(sys.argv[1:] if argv is None else argv)
    try:
        if args.print_deployer_policy:
            print_deployer_policy(args)
            return 0
        config = config_from(args)
        plan = DryRun(existing=dry_run_assumptions(args)) if args.dry_run else None
        aws = AwsClients(AwsTarget(args.region, args.endpoint_url, args.profile),
                         on_new_client=plan.attach if plan else None)
        if plan:
            say("DRY RUN: no request is sent to AWS. The steps show what a deploy into an "
                "account where none of this exists yet does; the plan of AWS calls follows.")
        with aws.doing("deploying"):
            deploy(aws, config)
    except (CliError, DeployError) as error:
        fail(str(error))
    if plan:
        print_plan(plan)
    return 0


if __name__ == "__main__":
    sys.exit(main())
