"""Remove what ``scripts.deploy`` created.

    python -m scripts.destroy --bucket B [--region R] [--database stedi] [--role-name N]
        [--vpc-id V] [--delete-data] [--yes] [--endpoint-url URL]

Without --yes it only lists what it would remove. The alerts' EventBridge rule (its targets
first) and SNS topic (its subscriptions with it), the triggers, workflow, jobs, tables,
database and the lake's Athena workgroup go, and so do deploy's own files in the bucket (job
scripts, Athena results, Glue temp files). The lake's data, the bucket itself and the
device-id key are deleted only with --delete-data. The IAM role, the VPC endpoint, the rule and
the topic are deleted only if deploy created them (it tags what it creates). Every S3 call but
ListBuckets and CreateBucket (neither is made here) carries ExpectedBucketOwner.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass

from scripts._cli.errors import CliError, OneLineArgumentParser, fail
from scripts.aws import athena, ec2, events, glue, iam, s3, sns, ssm
from scripts.aws.clients import AwsClients, AwsTarget
from scripts.aws.deploy_config import (
    DEFAULT_ROLE,
    SCRIPTS_PREFIX,
    TEMP_PREFIX,
    DeployConfig,
    trigger_definitions,
)
from scripts.aws.errors import DeployError
from scripts.lake import athena_ddl, pipeline


@dataclass(frozen=True)
class Removal:
    description: str
    remove: Callable[[], object]


def alert_removals(aws: AwsClients, config: DeployConfig) -> list[Removal]:
    """The rule before the topic it publishes to. Their ARNs need the account, which is known
    only once removing starts (listing them needs no AWS call)."""
    rule, topic = config.failures_rule, config.alerts_topic
    return [
        Removal(f"EventBridge rule {rule} and its targets, if deploy created it", lambda:
                events.delete_created_rule(aws("events"), rule,
                                           events.rule_arn(aws.region, aws.account(), rule))),
        Removal(f"SNS topic {topic} and its subscriptions, if deploy created it", lambda:
                sns.delete_created_topic(aws("sns"),
                                         sns.topic_arn(aws.region, aws.account(), topic))),
    ]


def glue_removals(aws: AwsClients, config: DeployConfig) -> list[Removal]:
    client = aws("glue")
    removals = []
    for trigger in trigger_definitions(config):
        removals.append(Removal(f"Glue trigger {trigger['Name']}", lambda n=trigger["Name"]:
                                glue.delete_if_present(client.delete_trigger,
                                                       client.exceptions.EntityNotFoundException,
                                                       Name=n)))
    removals.append(Removal(f"Glue workflow {config.workflow_name}", lambda:
                            glue.delete_if_present(client.delete_workflow,
                                                   client.exceptions.EntityNotFoundException,
                                                   Name=config.workflow_name)))
    for job in pipeline.JOBS:
        removals.append(Removal(f"Glue job {job.name}", lambda n=job.name:
                                glue.delete_if_present(client.delete_job,
                                                       client.exceptions.EntityNotFoundException,
                                                       JobName=n)))
    return removals


def catalog_removals(aws: AwsClients, config: DeployConfig) -> list[Removal]:
    """Tables go through Athena, as they came (DROP keeps their data in S3), then the database,
    then the lake's Athena workgroup."""
    @functools.cache
    def workgroup() -> str:
        """The lake's workgroup; Athena's primary one for a deployment made before deploy made
        a workgroup of its own."""
        return (config.workgroup if athena.workgroup_exists(aws("athena"), config.workgroup)
                else athena.PRIMARY_WORKGROUP)

    removals = [Removal(f"table {config.database}.{t.name}", lambda n=t.name:
                        athena.run_statement(aws("athena"),
                                             f"DROP TABLE IF EXISTS `{config.database}`.`{n}`",
                                             config.database, config.bucket,
                                             workgroup=workgroup()))
                for t in pipeline.CATALOG_TABLES]
    client = aws("glue")
    removals.append(Removal(f"Glue database {config.database}", lambda:
                            glue.delete_if_present(client.delete_database,
                                                   client.exceptions.EntityNotFoundException,
                                                   Name=config.database)))
    removals.append(Removal(f"Athena workgroup {config.workgroup}", lambda:
                            athena.delete_workgroup(aws("athena"), config.workgroup)))
    return removals


def storage_removals(aws: AwsClients, config: DeployConfig, role_name: str,
                     delete_data: bool) -> list[Removal]:
    client = aws("s3")
    prefixes = [f"{SCRIPTS_PREFIX}/", f"{TEMP_PREFIX}/",
                athena.results_location(config.bucket).removeprefix(f"s3://{config.bucket}/")]
    removals = [Removal(f"s3://{config.bucket}/{prefix} (deploy's files)",
                        lambda p=prefix: s3.delete_prefix(client, config.bucket, p))
                for prefix in prefixes]
    if delete_data:
        removals.append(Removal(f"all data in s3://{config.bucket} and the bucket", lambda:
                                (s3.delete_prefix(client, config.bucket, ""),
                                 s3.delete_bucket(client, config.bucket))))
        # Only with the data: the key is what keeps a device's id the same from run to run.
        key_name = ssm.device_key_parameter(config.database)
        removals.append(Removal(f"the device-id key {key_name}",
                                lambda: ssm.delete_device_key(aws("ssm"), key_name)))
    removals.append(Removal(f"IAM role {role_name}, if deploy created it",
                            lambda: iam.delete_created_role(aws("iam"), role_name)))
    if config.vpc_id:
        removals.append(Removal(f"S3 gateway endpoint of {config.vpc_id}, if deploy created it",
                                lambda: ec2.delete_created_endpoint(aws("ec2"), config.vpc_id,
                                                                    aws.region)))
    return removals


def plan_removals(aws: AwsClients, config: DeployConfig, role_name: str,
                  delete_data: bool) -> list[Removal]:
    """In dependency order: the alerts first (nothing depends on them), triggers before jobs,
    tables before the database, files last."""
    return (alert_removals(aws, config) + glue_removals(aws, config)
            + catalog_removals(aws, config)
            + storage_removals(aws, config, role_name, delete_data))


def main(argv: list[str] | None = None) -> int:
    parser = OneLineArgumentParser(prog="destroy", description=__doc__.split("\n\n")[0])
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--region")
    parser.add_argument("--profile")
    parser.add_argument("--database", default=pipeline.DEFAULT_DATABASE)
    parser.add_argument("--role-name", default=DEFAULT_ROLE)
    parser.add_argument("--vpc-id")
    parser.add_argument("--delete-data", action="store_true",
                        help="also delete every object in the bucket, and the bucket")
    parser.add_argument("--yes", action="store_true", help="really remove (else only list)")
    parser.add_argument("--endpoint-url")
    args = parser.parse_args(argv)
    config = DeployConfig(bucket=args.bucket, database=args.database, vpc_id=args.vpc_id)
    aws = AwsClients(AwsTarget(args.region, args.endpoint_url, args.profile))
    try:
        athena_ddl.validate_names(config.bucket, config.database)
        removals = plan_removals(aws, config, args.role_name, args.delete_data)
        if not args.yes:
            print("Would remove, where present (run again with --yes to do it):")
            for removal in removals:
                print(f"  - {removal.description}")
            if not args.delete_data:
                print(f"Kept: the data in s3://{config.bucket} and the bucket "
                      "(add --delete-data to delete them)")
            return 0
        with aws.doing("reading the caller's AWS account"):
            aws.account()  # every S3 call from now on expects this owner of the bucket
        for removal in removals:
            with aws.doing(f"removing {removal.description}"):
                removal.remove()
            print(f"✓ removed {removal.description}", flush=True)
    except (CliError, DeployError) as error:
        fail(str(error))
    return 0


if __name__ == "__main__":
    sys.exit(main())
