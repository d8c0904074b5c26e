"""`make deploy` and `make destroy`, driven as a user drives them, against a real moto server.

moto 5.2.5 lacks glue.update_job and glue.update_trigger (its server answers 500): the paths that
call them are tested with botocore's Stubber in tests/test_aws_steps.py. Here a second deploy of
an unchanged definition needs neither, which is what converging means.
"""

from __future__ import annotations

import json
import os
import re

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import settings as moto_settings
from moto.athena.responses import AthenaResponse
from moto.glue.models import FakeJobRun

from scripts import deploy as deploy_tool
from scripts import destroy, forget
from scripts.aws import events, sns
from scripts.aws.clients import AwsClients
from scripts.aws.deploy_config import (
    DEFAULT_ROLE,
    SCRIPTS_PREFIX,
    DeployConfig,
    trigger_definitions,
)
from scripts.dev.moto_server import (
    evaluate_bucket_policies_as_for_tls_requests,
    run_workflows_as_glue_does,
)
from scripts.erasure import landing_records
from scripts.lake import athena_ddl, pipeline
from scripts.local_glue.glue_versions import glue_runtime
from scripts.sample_data.generator import generate
from tests.moto_server import (
    ACCOUNT,
    ISOLATED_AWS_ENVIRONMENT,
    REGION,
    TEST_CREDENTIALS,
    FlakyProxy,
    relative_files,
)
from tests.support import REPO_ROOT, load_job_module

BUCKET = "stedi-demo"


@pytest.fixture
def aws(moto, monkeypatch):
    moto.reset()
    run_workflows_as_glue_does(monkeypatch.setattr, region=REGION)
    evaluate_bucket_policies_as_for_tls_requests(monkeypatch.setattr)
    return moto


@pytest.fixture(scope="module")
def landing(tmp_path_factory):
    lake = tmp_path_factory.mktemp("deploy") / "lake"
    generate(lake, scale=0.01, seed=5, files_per_source=2)
    return lake


@pytest.fixture
def network(aws):
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    route_table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    return vpc, route_table


def deploy(aws, landing, *extra: str):
    """Deploy as a user would, but without waiting for IAM to settle: moto's IAM is consistent
    at once (test_the_first_run_waits_for_a_changed_role_to_settle checks the wait)."""
    return aws.run_cli("scripts.deploy", "--bucket", BUCKET, "--landing", str(landing),
                       "--iam-settle", "0", *extra)


def counts_seed() -> list[list[str] | None]:
    """The database's DDL statement, two statements per catalog table for the DDL (drop,
    create), then one count per zone table."""
    return [None] * (1 + 2 * len(pipeline.CATALOG_TABLES)) + [
        [str(100 + i)] for i in range(len(pipeline.TABLES))]


# --- a full deploy -----------------------------------------------------------------------------

@pytest.fixture
def deployed(aws, landing, network):
    aws.seed_athena_results(counts_seed())
    result = deploy(aws, landing, "--create-role", "--vpc-id", network[0],
                    "--route-table-id", network[1])
    assert result.returncode == 0, result.stderr
    return result


def test_bucket_is_private_and_encrypted(aws, deployed):
    s3 = aws.client("s3")
    block = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert block == {"BlockPublicAcls": True, "IgnorePublicAcls": True,
                     "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
    rule = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}


def test_landing_files_and_scripts_are_in_s3_at_the_lake_layout(aws, deployed, landing):
    s3 = aws.client("s3")
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]
            if not o["Key"].startswith("athena_results/")}  # written by Athena's queries
    expected = {f"{t.path}/{name}" for t in pipeline.landing_tables()
                for name in relative_files(landing / t.path)}
    expected |= {f"{SCRIPTS_PREFIX}/{j.name}.py" for j in pipeline.JOBS}
    assert keys == expected
    for job in pipeline.JOBS:
        body = s3.get_object(Bucket=BUCKET, Key=f"{SCRIPTS_PREFIX}/{job.name}.py")["Body"].read()
        assert body == (REPO_ROOT / job.script).read_bytes()


def test_glue_jobs_are_defined_as_designed(aws, deployed):
    glue = aws.client("glue")
    role = aws.client("iam").get_role(RoleName=DEFAULT_ROLE)["Role"]["Arn"]
    assert glue.get_database(Name="stedi")["Database"]["Name"] == "stedi"
    for job in pipeline.JOBS:
        definition = glue.get_job(JobName=job.name)["Job"]
        assert definition["Command"]["Name"] == "glueetl"
        assert definition["Command"]["ScriptLocation"] == f"s3://{BUCKET}/{SCRIPTS_PREFIX}/{job.name}.py"
        assert (definition["GlueVersion"], definition["WorkerType"],
                definition["NumberOfWorkers"], definition["MaxRetries"]) == ("6.0", "G.1X", 2, 0)
        assert definition["Role"] == role
        arguments = definition["DefaultArguments"]
        assert {k: arguments[k] for k in ("--lake_root", "--database", "--consent_mode",
                                          "--ml_match")} == {
            "--lake_root": f"s3://{BUCKET}", "--database": "stedi",
            "--consent_mode": "registered", "--ml_match": "device"}
        assert arguments["--conf"] == f"spark.hadoop.fs.s3a.endpoint.region={REGION}"
        assert sorted(arguments) == sorted(  # no --enable-continuous-cloudwatch-log (4.0 only)
            ["--lake_root", "--database", "--consent_mode", "--ml_match", "--job-language",
             "--TempDir", "--enable-metrics", "--conf"]
            + (["--device_key"] if job.reads_device_key else []))


def test_role_trusts_glue_and_reaches_only_this_bucket(aws, deployed):
    iam = aws.client("iam")
    role = iam.get_role(RoleName=DEFAULT_ROLE)["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "glue.amazonaws.com"}
    policies = iam.list_role_policies(RoleName=DEFAULT_ROLE)["PolicyNames"]
    s3_policy = iam.get_role_policy(RoleName=DEFAULT_ROLE, PolicyName="stedi-s3-access")
    resources = {r for statement in s3_policy["PolicyDocument"]["Statement"]
                 for r in statement["Resource"]}
    assert sorted(policies) == ["stedi-device-key", "stedi-glue-access", "stedi-s3-access"]
    assert resources == {f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"}
    # S3A's committers (Glue 5.1 and later) list and abort multipart uploads
    assert [statement["Action"] for statement in s3_policy["PolicyDocument"]["Statement"]] == [
        ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"],
        ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload",
         "s3:ListMultipartUploadParts"]]


def test_s3_gateway_endpoint_serves_the_route_table(aws, deployed, network):
    endpoints = aws.client("ec2").describe_vpc_endpoints(
        Filters=[{"Name": "vpc-id", "Values": [network[0]]}])["VpcEndpoints"]
    assert [(e["ServiceName"], e["VpcEndpointType"], e["RouteTableIds"]) for e in endpoints] == [
        ("com.amazonaws.us-east-1.s3", "Gateway", [network[1]])]


def test_workflow_triggers_chain_the_jobs_in_dependency_order(aws, deployed):
    glue = aws.client("glue")
    assert glue.get_workflow(Name="stedi-lakehouse")["Workflow"]["Name"] == "stedi-lakehouse"
    triggers = {t["Name"]: t for t in glue.get_triggers()["Triggers"]}
    start = triggers.pop("stedi-lakehouse-start")
    assert (start["Type"], start["Actions"]) == ("ON_DEMAND",
                                                 [{"JobName": "customer_landing_to_trusted"}])
    chained = {t["Actions"][0]["JobName"]: sorted(c["JobName"]
                                                  for c in t["Predicate"]["Conditions"])
               for t in triggers.values()}
    assert chained == {j.name: sorted(u.name for u in pipeline.upstream_jobs(j.name))
                       for j in pipeline.JOBS if pipeline.upstream_jobs(j.name)}
    assert {t["Type"] for t in triggers.values()} == {"CONDITIONAL"}


def test_athena_ran_the_rendered_ddl_of_every_table(aws, deployed):
    queries = aws.athena_queries()
    for table in pipeline.CATALOG_TABLES:
        assert athena_ddl.statement(athena_ddl.render(table.name, BUCKET, "stedi")) in queries
    # athena_ddl/database.sql, then the tables, in athena_ddl.ddl_files_in_order()
    statements = [athena_ddl.statement(text)
                  for _, text in athena_ddl.render_in_order(BUCKET, "stedi")]
    assert statements[0].startswith("CREATE DATABASE IF NOT EXISTS `stedi`")
    assert [q for q in queries if q in statements] == statements


def test_the_workflow_ran_the_jobs_in_dependency_order_and_the_counts_are_printed(aws,
                                                                                  deployed):
    glue = aws.client("glue")
    [workflow_run] = glue.get_workflow_runs(Name="stedi-lakehouse")["Runs"]
    runs = {j.name: glue.get_job_runs(JobName=j.name)["JobRuns"] for j in pipeline.JOBS}
    assert all(len(job_runs) == 1 for job_runs in runs.values())
    assert {job_runs[0]["Arguments"]["--WORKFLOW_RUN_ID"] for job_runs in runs.values()} == {
        workflow_run["WorkflowRunId"]}  # started by the workflow's triggers, not by deploy
    started = {name: job_runs[0]["StartedOn"] for name, job_runs in runs.items()}
    assert sorted(started, key=started.get) == [j.name for j in pipeline.dependency_order()]
    assert f"workflow stedi-lakehouse run {workflow_run['WorkflowRunId']} started" in (
        deployed.stdout)
    for position, table in enumerate(pipeline.TABLES):
        assert f"│ {table.name} " in deployed.stdout and f" {100 + position} │" in deployed.stdout
    assert "DPU-hours" in deployed.stdout


@pytest.mark.parametrize("version", ["5.0", "5.1", "6.1"])
def test_glue_version_is_sent_as_chosen_with_the_arguments_it_takes(aws, landing, version):
    result = deploy(aws, landing, "--create-role", "--no-run", "--glue-version", version)
    assert result.returncode == 0, result.stderr
    for job in pipeline.JOBS:
        definition = aws.client("glue").get_job(JobName=job.name)["Job"]
        assert definition["GlueVersion"] == version
        arguments = definition["DefaultArguments"]
        # S3A from 5.1 (its region set); continuous logging is a 4.0-and-earlier argument
        assert arguments.get("--conf") == (
            f"spark.hadoop.fs.s3a.endpoint.region={REGION}" if glue_runtime(version).s3a
            else None)
        assert "--enable-continuous-cloudwatch-log" not in arguments


def test_an_unknown_glue_version_is_one_line_and_status_2(aws, landing):
    result = deploy(aws, landing, "--glue-version", "4.0")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "argument --glue-version: invalid choice: '4.0'" in result.stderr


def test_the_summary_shows_the_quarantine_counts_the_landing_jobs_wrote(aws, landing):
    """moto runs no job, so the accounting a landing job writes to S3 is put there first."""
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=pipeline.accounting_path("accelerometer"),
                  Body=json.dumps({"source": "accelerometer", "accepted": 9, "quarantined": 1234}))
    result = deploy(aws, landing, "--create-role")
    assert result.returncode == 0, result.stderr
    assert "│ accelerometer (quarantined) │         1,234 │" in result.stdout
    assert "│ customer (quarantined)      │     no result │" in result.stdout


# --- repeating, dry runs, tearing down ------------------------------------------------------------

def test_deploying_twice_converges_without_duplicates(aws, landing):
    first = deploy(aws, landing, "--create-role", "--no-run")
    assert first.returncode == 0, first.stderr
    s3, glue = aws.client("s3"), aws.client("glue")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"])
    second = deploy(aws, landing, "--create-role", "--no-run")
    assert second.returncode == 0, second.stderr
    assert f"✓ 0 files uploaded, {len(keys)} unchanged" in second.stdout
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]) == keys
    assert sorted(glue.list_jobs()["JobNames"]) == sorted(j.name for j in pipeline.JOBS)
    assert len(glue.get_triggers()["Triggers"]) == len(trigger_definitions(DeployConfig(BUCKET)))
    assert "job customer_landing_to_trusted unchanged" in second.stdout
    assert "Athena workgroup stedi-lakehouse unchanged" in second.stdout
    assert len(aws.client("iam").list_roles()["Roles"]) == 1


def test_dry_run_prints_the_plan_and_changes_nothing(aws, landing):
    result = deploy(aws, landing, "--create-role", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "glue.CreateJob(Name='customer_landing_to_trusted'" in result.stdout
    assert "s3.PutPublicAccessBlock(Bucket='stedi-demo'" in result.stdout
    assert aws.client("s3").list_buckets()["Buckets"] == []
    assert aws.client("glue").get_databases()["DatabaseList"] == []
    assert aws.client("athena").list_query_executions()["QueryExecutionIds"] == []


def test_dry_run_needs_no_credentials(aws, landing):
    result = aws.run_cli("scripts.deploy", "--bucket", BUCKET, "--landing", str(landing),
                         "--dry-run", credentials=False)
    assert result.returncode == 0, result.stderr
    assert "AWS calls:" in result.stdout


def test_destroy_lists_without_yes_and_removes_it_all_with_it(aws, landing, network):
    deployed = deploy(aws, landing, "--create-role", "--no-run", "--vpc-id", network[0],
                      "--route-table-id", network[1])
    assert deployed.returncode == 0, deployed.stderr
    listing = aws.run_cli("scripts.destroy", "--bucket", BUCKET, "--vpc-id", network[0],
                          "--delete-data")
    assert listing.returncode == 0 and "Would remove" in listing.stdout
    assert aws.client("glue").list_jobs()["JobNames"]  # nothing removed yet
    result = aws.run_cli("scripts.destroy", "--bucket", BUCKET, "--vpc-id", network[0],
                         "--delete-data", "--yes")
    assert result.returncode == 0, result.stderr
    glue = aws.client("glue")
    assert glue.list_jobs()["JobNames"] == []
    assert glue.get_triggers()["Triggers"] == []
    assert glue.get_databases()["DatabaseList"] == []
    assert aws.client("s3").list_buckets()["Buckets"] == []
    assert aws.client("iam").list_roles()["Roles"] == []
    endpoints = aws.client("ec2").describe_vpc_endpoints(
        Filters=[{"Name": "vpc-id", "Values": [network[0]]}])["VpcEndpoints"]
    assert {e["State"].lower() for e in endpoints} <= {"deleted"}
    drops = [q for q in aws.athena_queries() if q.startswith("DROP TABLE")]
    assert len(drops) == 2 * len(pipeline.CATALOG_TABLES)  # deploy's, then destroy's


def test_destroy_keeps_the_data_without_delete_data(aws, landing):
    assert deploy(aws, landing, "--create-role", "--no-run").returncode == 0
    result = aws.run_cli("scripts.destroy", "--bucket", BUCKET, "--yes")
    assert result.returncode == 0, result.stderr
    keys = {o["Key"] for o in aws.client("s3").list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert keys == {f"{t.path}/{name}" for t in pipeline.landing_tables()
                    for name in relative_files(landing / t.path)}


# --- mistakes and failures: one line, status 2, nothing half-made
# ----------------------------------

def assert_one_line_error(result, message: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr


def test_missing_credentials(aws, landing):
    result = aws.run_cli("scripts.deploy", "--bucket", BUCKET, "--landing", str(landing),
                         credentials=False)
    assert_one_line_error(result, "no AWS credentials found")
    assert aws.client("s3").list_buckets()["Buckets"] == []


def test_invalid_bucket_name(aws, landing):
    assert_one_line_error(deploy_named(aws, landing, "Not_A_Bucket"), "invalid S3 bucket name")


def deploy_named(aws, landing, bucket):
    return aws.run_cli("scripts.deploy", "--bucket", bucket, "--landing", str(landing))


def test_bucket_of_another_account_stops_before_anything_is_made(aws, landing, monkeypatch):
    other = aws.client("s3")
    other.meta.events.register("before-send.*.*", lambda request, **_: request.headers.
                               __setitem__("x-moto-account-id", "111111111111"))
    other.create_bucket(Bucket=BUCKET)
    monkeypatch.setenv("MOTO_S3_ALLOW_CROSSACCOUNT_ACCESS", "false")  # read by the server
    result = deploy(aws, landing, "--create-role")
    assert_one_line_error(result, f"bucket {BUCKET} belongs to another AWS account")
    assert aws.client("glue").get_databases()["DatabaseList"] == []
    assert aws.client("iam").list_roles()["Roles"] == []


def test_a_failing_job_stops_the_run_with_its_error_and_logs(aws, landing, monkeypatch):
    original = FakeJobRun.as_dict

    def failing_step_trainer(self):
        run = original(self)
        if self.job_name == "step_trainer_trusted":
            run.update(JobRunState="FAILED", ErrorMessage="AnalysisException: path not found")
        return run

    monkeypatch.setattr(FakeJobRun, "as_dict", failing_step_trainer)
    result = deploy(aws, landing, "--create-role")
    assert_one_line_error(result, "Glue job step_trainer_trusted FAILED: AnalysisException: "
                                  "path not found (logs: CloudWatch log group")
    assert aws.client("glue").get_job_runs(JobName="machine_learning_curated")["JobRuns"] == []


def test_a_failed_athena_query_raises_with_athenas_reason(aws, landing, monkeypatch):
    original = AthenaResponse.get_query_execution

    def failing_ddl(self):
        answer = json.loads(original(self))
        execution = answer["QueryExecution"]
        if "`accelerometer_trusted`" in execution["Query"] and "CREATE" in execution["Query"]:
            execution["Status"].update(State="FAILED",
                                       StateChangeReason="line 1:8: mismatched input")
        return json.dumps(answer)

    monkeypatch.setattr(AthenaResponse, "get_query_execution", failing_ddl)
    result = deploy(aws, landing, "--create-role")
    assert_one_line_error(result, "Athena query FAILED: line 1:8: mismatched input")
    assert aws.client("glue").list_jobs()["JobNames"] == []


# --- the security baseline and what deploy refuses ------------------------------------------------

def test_bucket_refuses_requests_without_tls_and_expires_deploys_scratch_files(aws, deployed):
    s3 = aws.client("s3")
    policy = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    assert policy["Statement"] == [{
        "Sid": "DenyRequestsWithoutTls", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]
    rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]}
    assert {(r["Filter"]["Prefix"], r["Expiration"]["Days"]) for r in rules.values()
            if "Expiration" in r} == {("athena_results/", 7), ("glue_temp/", 7)}
    assert rules["stedi-abort-incomplete-uploads"]["AbortIncompleteMultipartUpload"] == {
        "DaysAfterInitiation": 7}


def test_a_bucket_policy_and_lifecycle_rules_of_the_owner_are_kept(aws, landing):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    theirs = {"Sid": "TheirAuditRole", "Effect": "Allow",
              "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "s3:GetObject",
              "Resource": f"arn:aws:s3:::{BUCKET}/*"}
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17",
                                                           "Statement": [theirs]}))
    their_rule = {"ID": "archive-old-landing", "Status": "Enabled",
                  "Filter": {"Prefix": "customer/landing/"}, "Expiration": {"Days": 400}}
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET,
                                          LifecycleConfiguration={"Rules": [their_rule]})
    for _ in range(2):  # and a second deploy adds nothing twice
        assert deploy(aws, landing, "--create-role", "--no-run").returncode == 0
    statements = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])["Statement"]
    assert [s["Sid"] for s in statements] == ["TheirAuditRole", "DenyRequestsWithoutTls"]
    rules = [r["ID"] for r in s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]]
    assert sorted(rules) == sorted(["archive-old-landing", "stedi-expire-athena_results",
                                    "stedi-expire-glue_temp", "stedi-abort-incomplete-uploads"])


def test_the_role_has_the_console_friendly_name_and_scoped_policies(aws, deployed):
    iam = aws.client("iam")
    assert DEFAULT_ROLE.startswith("AWSGlueServiceRole")
    glue_policy = iam.get_role_policy(RoleName=DEFAULT_ROLE,
                                      PolicyName="stedi-glue-access")["PolicyDocument"]
    catalog = glue_policy["Statement"][0]
    prefix = f"arn:aws:glue:{REGION}:{ACCOUNT}"
    assert catalog["Resource"] == [f"{prefix}:catalog", f"{prefix}:database/stedi",
                                   f"{prefix}:table/stedi/*"]
    assert glue_policy["Statement"][1]["Resource"] == [
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws-glue/*"]


def test_a_role_deploy_did_not_create_is_refused_unless_adopted(aws, landing):
    iam = aws.client("iam")
    theirs = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"Service": "ec2.amazonaws.com"}}]}
    iam.create_role(RoleName=DEFAULT_ROLE, AssumeRolePolicyDocument=json.dumps(theirs))
    result = deploy(aws, landing, "--create-role", "--no-run")
    assert_one_line_error(result, f"IAM role {DEFAULT_ROLE} exists and was not created by deploy: "
                                  "pass --adopt-role")
    role = iam.get_role(RoleName=DEFAULT_ROLE)["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "ec2.amazonaws.com"}
    assert iam.list_role_policies(RoleName=DEFAULT_ROLE)["PolicyNames"] == []
    adopted = deploy(aws, landing, "--create-role", "--adopt-role", "--no-run")
    assert adopted.returncode == 0, adopted.stderr
    assert sorted(iam.list_role_policies(RoleName=DEFAULT_ROLE)["PolicyNames"]) == [
        "stedi-device-key", "stedi-glue-access", "stedi-s3-access"]


def test_a_bucket_in_another_region_is_refused_before_anything_is_made(aws, landing):
    aws.client("s3").create_bucket(Bucket=BUCKET, CreateBucketConfiguration={
        "LocationConstraint": "eu-west-1"})
    result = deploy(aws, landing, "--create-role")
    assert_one_line_error(result, f"bucket {BUCKET} is in eu-west-1, not {REGION}: pass "
                                  "--region eu-west-1")
    assert aws.client("iam").list_roles()["Roles"] == []
    assert aws.client("glue").get_databases()["DatabaseList"] == []


def test_destroy_detaches_a_managed_policy_someone_attached_and_keeps_the_policy(aws, landing):
    assert deploy(aws, landing, "--create-role", "--no-run").returncode == 0
    iam = aws.client("iam")
    arn = iam.create_policy(PolicyName="extra", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets",
                                                "Resource": "*"}]}))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=DEFAULT_ROLE, PolicyArn=arn)
    result = aws.run_cli("scripts.destroy", "--bucket", BUCKET, "--yes")
    assert result.returncode == 0, result.stderr
    assert iam.list_roles()["Roles"] == []
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 0


def test_the_first_run_waits_for_a_changed_role_to_settle(aws, landing):
    aws.seed_athena_results(counts_seed())
    result = aws.run_cli("scripts.deploy", "--bucket", BUCKET, "--landing", str(landing),
                         "--create-role", "--iam-settle", "10")
    assert result.returncode == 0, result.stderr
    waited = [line for line in result.stdout.splitlines() if "for the role's change" in line]
    assert len(waited) == 1 and int(waited[0].split()[1]) > 0
    assert result.stdout.index(waited[0]) < result.stdout.index("workflow stedi-lakehouse run")
    aws.seed_athena_results(counts_seed())
    again = aws.run_cli("scripts.deploy", "--bucket", BUCKET, "--landing", str(landing),
                        "--create-role", "--iam-settle", "10")
    assert again.returncode == 0, again.stderr
    assert f"role {DEFAULT_ROLE} unchanged" in again.stdout
    assert "for the role's change" not in again.stdout  # nothing changed: nothing to wait for


def test_an_aws_error_in_destroy_is_one_line_too(aws, monkeypatch):
    other = aws.client("s3")
    other.meta.events.register("before-send.*.*", lambda request, **_: request.headers.
                               __setitem__("x-moto-account-id", "111111111111"))
    other.create_bucket(Bucket=BUCKET)
    monkeypatch.setenv("MOTO_S3_ALLOW_CROSSACCOUNT_ACCESS", "false")  # read by the server
    result = aws.run_cli("scripts.destroy", "--bucket", BUCKET, "--yes")
    assert_one_line_error(result, "AWS s3 ListObjectsV2 AccessDenied while removing "
                                  f"s3://{BUCKET}/glue_scripts/ (deploy's files)")


def test_deploy_and_destroy_survive_server_errors_and_dropped_connections(aws, landing):
    """Through a proxy that answers 503 to, or drops the connection of, the first call of
    several operations, among them an upload, a paginated listing and IAM, Glue and Athena
    calls: botocore's standard retries carry every one of them."""
    flaky = {"PutObject", "ListObjectsV2", "CreateRole", "CreateJob", "StartQueryExecution",
             "CreateTrigger"}
    dropped = {"HeadObject", "GetDatabase"}
    with FlakyProxy(aws.url, fail_with_503=flaky, drop_connection=dropped) as proxy:
        deployed = aws.run_cli("scripts.deploy", "--bucket", BUCKET, "--landing", str(landing),
                               "--create-role", "--no-run", endpoint_url=proxy.url)
        assert deployed.returncode == 0, deployed.stderr
        destroyed = aws.run_cli("scripts.destroy", "--bucket", BUCKET, "--yes", "--delete-data",
                                endpoint_url=proxy.url)
        assert destroyed.returncode == 0, destroyed.stderr
    assert sorted(proxy.injected) == sorted([(kind, "503") for kind in flaky]
                                            + [(kind, "dropped") for kind in dropped])
    assert aws.client("s3").list_buckets()["Buckets"] == []


# --- the device-id key: a secret that only the role reads ---------------------------------------

KEY_PARAMETER = "/stedi-lakehouse/stedi/device-id-key"
KEY_ARN = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{KEY_PARAMETER}"


def stored_key(aws) -> str:
    return aws.client("ssm").get_parameter(Name=KEY_PARAMETER,
                                           WithDecryption=True)["Parameter"]["Value"]


def test_the_device_key_is_a_secret_the_role_alone_may_read_and_no_job_argument(aws, deployed):
    ssm = aws.client("ssm")
    parameter = ssm.get_parameter(Name=KEY_PARAMETER)["Parameter"]
    assert (parameter["Type"], parameter["ARN"]) == ("SecureString", KEY_ARN)
    key = stored_key(aws)
    assert re.fullmatch("[0-9a-f]{64}", key)
    tags = ssm.list_tags_for_resource(ResourceType="Parameter",
                                      ResourceId=KEY_PARAMETER)["TagList"]
    assert {"Key": "created-by", "Value": "stedi-deploy"} in tags
    iam = aws.client("iam")
    documents = {name: iam.get_role_policy(RoleName=DEFAULT_ROLE,
                                           PolicyName=name)["PolicyDocument"]
                 for name in iam.list_role_policies(RoleName=DEFAULT_ROLE)["PolicyNames"]}
    ssm_statements = [statement for document in documents.values()
                      for statement in document["Statement"]
                      if any(action.startswith("ssm:") for action in statement["Action"])]
    assert ssm_statements == [{"Sid": "TheDeviceIdKey", "Effect": "Allow",
                               "Action": ["ssm:GetParameter"], "Resource": [KEY_ARN]}]
    glue = aws.client("glue")
    for job in pipeline.JOBS:
        arguments = glue.get_job(JobName=job.name)["Job"]["DefaultArguments"]
        assert arguments.get("--device_key") == (f"ssm:{KEY_ARN}" if job.reads_device_key
                                                 else None)
        assert key not in json.dumps(arguments)
    assert key not in deployed.stdout + deployed.stderr
    s3 = aws.client("s3")
    for item in s3.list_objects_v2(Bucket=BUCKET)["Contents"]:
        assert key.encode() not in s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()


def test_the_ml_script_reads_the_key_deploy_stored(aws, deployed, monkeypatch):
    """The script's own reader, given the job argument deploy set, reaches the parameter with
    boto3's default credentials and the region from the ARN, as on Glue; AWS_ENDPOINT_URL
    sends it to the server."""
    argument = aws.client("glue").get_job(
        JobName="machine_learning_curated")["Job"]["DefaultArguments"]["--device_key"]
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws.url)
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    job = load_job_module("machine_learning_curated")
    assert job.read_device_key(argument) == bytes.fromhex(stored_key(aws))


def test_a_second_deploy_keeps_the_key_and_destroy_deletes_it_only_with_the_data(aws, landing):
    assert deploy(aws, landing, "--create-role", "--no-run").returncode == 0
    first = stored_key(aws)
    again = deploy(aws, landing, "--create-role", "--no-run")
    assert again.returncode == 0 and "exists (kept: ids stay stable)" in again.stdout
    assert stored_key(aws) == first
    assert aws.run_cli("scripts.destroy", "--bucket", BUCKET, "--yes").returncode == 0
    assert stored_key(aws) == first
    assert aws.run_cli("scripts.destroy", "--bucket", BUCKET, "--yes",
                       "--delete-data").returncode == 0
    assert aws.client("ssm").describe_parameters()["Parameters"] == []


def test_the_dry_run_plan_never_shows_a_key(aws, landing):
    result = deploy(aws, landing, "--create-role", "--dry-run")
    assert result.returncode == 0, result.stderr
    [put] = [line for line in result.stdout.splitlines() if "ssm.PutParameter" in line]
    assert "(secret, not shown)" in put and not re.search("[0-9a-f]{64}", put)


# --- forgetting a customer on AWS ---------------------------------------------------------------

def test_forget_on_aws_edits_the_landing_objects_and_runs_the_workflow_again(aws, landing):
    """moto's Athena answers every count with no rows, so the proof's zeros here show only
    that the queries were sent; the local tests check the proof against real zones."""
    assert deploy(aws, landing, "--create-role").returncode == 0
    customers = (landing / "customer" / "landing")
    email = json.loads(sorted(customers.glob("*.json"))[0].read_text().splitlines()[0])["email"]
    serials, _ = landing_records.customer_serials(
        [p.read_bytes() for p in customers.glob("*.json")], email)

    result = aws.run_cli("scripts.forget", "--bucket", BUCKET, "--email", email)

    assert result.returncode == 0, result.stderr
    s3 = aws.client("s3")
    for table in pipeline.landing_tables():
        for name in relative_files(landing / table.path):
            lines = (landing / table.path / name).read_bytes().splitlines(keepends=True)
            kept = b"".join(line for line in lines if not landing_records.belongs(
                line.decode().strip(), table.source, email, frozenset(serials)))
            stored = s3.get_object(Bucket=BUCKET, Key=f"{table.path}/{name}")["Body"].read()
            assert stored == kept, name
    records = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET,
                                                     Prefix="_reports/erasures/")["Contents"]]
    assert len(records) == 1 and "/pending/" not in records[0], records
    record = s3.get_object(Bucket=BUCKET, Key=records[0])["Body"].read().decode()
    assert email not in record and not any(serial in record for serial in serials)
    assert json.loads(record)["landing_records_removed"]["customer"] == sum(
        json.dumps(email) in line for path in customers.glob("*.json")
        for line in path.read_text().splitlines())
    assert len(aws.client("glue").get_workflow_runs(Name="stedi-lakehouse")["Runs"]) == 2
    proof = [q for q in aws.athena_queries() if "where" in q and email in q]
    assert len(proof) >= 7
    again = aws.run_cli("scripts.forget", "--bucket", BUCKET, "--email", email)
    assert again.returncode == 0 and "nothing to forget" in again.stdout


# --- the second AWS audit (#20) ------------------------------------------------------------------

WORKGROUP = "stedi-lakehouse"


def customer_email(landing) -> str:
    customers = landing / "customer" / "landing"
    return json.loads(sorted(customers.glob("*.json"))[0].read_text().splitlines()[0])["email"]


def executions(aws) -> list[dict]:
    athena = aws.client("athena")
    return [athena.get_query_execution(QueryExecutionId=i)["QueryExecution"]
            for i in athena.list_query_executions()["QueryExecutionIds"]]


def test_every_query_runs_in_the_lakes_own_enforced_workgroup_which_destroy_removes(aws,
                                                                                   landing):
    """A workgroup that enforces its configuration overrides a query's result location: deploy
    makes one of the lake's own, results in the bucket, enforced, and every query of deploy,
    forget and destroy runs in it."""
    assert deploy(aws, landing, "--create-role").returncode == 0
    athena = aws.client("athena")
    group = athena.get_work_group(WorkGroup=WORKGROUP)["WorkGroup"]["Configuration"]
    assert group["ResultConfiguration"] == {
        "OutputLocation": f"s3://{BUCKET}/athena_results/",
        "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"}}
    assert group["EnforceWorkGroupConfiguration"] is True
    forgotten = aws.run_cli("scripts.forget", "--bucket", BUCKET, "--email",
                            customer_email(landing))
    assert forgotten.returncode == 0, forgotten.stderr
    destroyed = aws.run_cli("scripts.destroy", "--bucket", BUCKET, "--yes")
    assert destroyed.returncode == 0, destroyed.stderr
    assert f"✓ removed Athena workgroup {WORKGROUP}" in destroyed.stdout
    queries = executions(aws)
    statements = [q["Query"] for q in queries]
    assert sum(q.startswith("DROP TABLE") for q in statements) == 2 * len(pipeline.CATALOG_TABLES)
    assert sum(" where " in q for q in statements) >= 7  # forget's proof
    assert {q["WorkGroup"] for q in queries} == {WORKGROUP}
    assert [g["Name"] for g in athena.list_work_groups()["WorkGroups"]] == ["primary"]


def test_destroy_drops_the_tables_of_a_deployment_without_a_workgroup_in_the_primary_one(
        aws, landing):
    """A deployment made before deploy had a workgroup of its own ran its DDL in primary."""
    assert deploy(aws, landing, "--create-role", "--no-run").returncode == 0
    aws.client("athena").delete_work_group(WorkGroup=WORKGROUP)
    before = len(executions(aws))
    result = aws.run_cli("scripts.destroy", "--bucket", BUCKET, "--yes")
    assert result.returncode == 0, result.stderr
    drops = executions(aws)[before:]
    assert len(drops) == len(pipeline.CATALOG_TABLES)
    assert {q["WorkGroup"] for q in drops} == {"primary"}


def record_s3_calls(monkeypatch) -> list[tuple[str, dict]]:
    """Every S3 request of every AwsClients made from now on in this process, as (operation,
    parameters) once all providers of parameters have run, just before botocore builds the
    request (event before-parameter-build.s3)."""
    calls: list[tuple[str, dict]] = []
    original = AwsClients.__post_init__

    def recording(self) -> None:
        original(self)
        self.session.events.register(
            "before-parameter-build.s3",
            lambda params, model, **_: calls.append((model.name, dict(params))))

    monkeypatch.setattr(AwsClients, "__post_init__", recording)
    return calls


def isolated_aws_environment(monkeypatch) -> None:
    """The tools run in this process as in run_cli's: test credentials, no file or instance
    metadata that could lend real ones."""
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    for key, value in {**ISOLATED_AWS_ENVIRONMENT, **TEST_CREDENTIALS}.items():
        monkeypatch.setenv(key, value)


def test_every_s3_call_of_deploy_forget_and_destroy_expects_the_callers_account(
        aws, landing, monkeypatch, capsys):
    """Deploy (with a run), forget and destroy --delete-data, run in this process so that a
    botocore hook sees each S3 request's parameters: each one but CreateBucket (whose request
    has no ExpectedBucketOwner) carries the account the credentials belong to."""
    calls = record_s3_calls(monkeypatch)
    isolated_aws_environment(monkeypatch)
    endpoint = ["--endpoint-url", aws.url]
    assert deploy_tool.main(["--bucket", BUCKET, "--landing", str(landing), "--create-role",
                             "--iam-settle", "0", *endpoint]) == 0
    deployed = {name for name, _ in calls}
    assert forget.main(["--bucket", BUCKET, "--email", customer_email(landing), *endpoint]) == 0
    forgotten = {name for name, _ in calls[len(deployed):]}
    assert destroy.main(["--bucket", BUCKET, "--yes", "--delete-data", *endpoint]) == 0
    capsys.readouterr()
    operations = {name for name, _ in calls}
    assert {"HeadBucket", "CreateBucket", "PutPublicAccessBlock", "PutBucketEncryption",
            "GetBucketPolicy", "PutBucketPolicy", "GetBucketLifecycleConfiguration",
            "PutBucketLifecycleConfiguration", "HeadObject", "PutObject", "GetObject"} <= deployed
    assert {"HeadBucket", "ListObjectsV2", "GetObject", "PutObject", "DeleteObject"} <= (
        forgotten)
    assert {"DeleteObjects", "DeleteBucket"} <= operations
    assert [name for name, params in calls
            if params.get("ExpectedBucketOwner") != ACCOUNT] == ["CreateBucket"]


def test_an_analyst_with_ssm_read_access_reads_the_device_key_and_others_do_not(aws, deployed,
                                                                              monkeypatch):
    """What docs/privacy.md, "Who can read the key on AWS, exactly" says of the key's readers,
    as far as moto shows it: the parameter is a SecureString under the AWS managed key aws/ssm
    (deploy names no key), so SSM's read permission is the only gate. A principal deploy never
    named, with the actions of AWS's AmazonSSMReadOnlyAccess (ssm:Get* on *), reads the key;
    one with S3 only does not. (moto evaluates no KMS key policy; that aws/ssm lets every
    principal of the account decrypt is AWS's documentation, not this test.)"""
    assert aws.client("ssm").describe_parameters()["Parameters"][0]["KeyId"] == "alias/aws/ssm"
    iam, keys = aws.client("iam"), {}
    for user, actions in {"analyst": ["ssm:Describe*", "ssm:Get*", "ssm:List*"],
                          "s3-user": ["s3:*"]}.items():
        iam.create_user(UserName=user)
        iam.put_user_policy(UserName=user, PolicyName="access", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}))
        keys[user] = iam.create_access_key(UserName=user)["AccessKey"]
    key = stored_key(aws)

    def read_as(user: str) -> str:
        return boto3.client("ssm", region_name=REGION, endpoint_url=aws.url,
                            aws_access_key_id=keys[user]["AccessKeyId"],
                            aws_secret_access_key=keys[user]["SecretAccessKey"]).get_parameter(
            Name=KEY_PARAMETER, WithDecryption=True)["Parameter"]["Value"]

    monkeypatch.setattr(moto_settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)  # IAM checks from now
    assert read_as("analyst") == key
    with pytest.raises(ClientError, match="AccessDenied"):
        read_as("s3-user")


def test_a_workflow_run_in_progress_is_followed_instead_of_refused(aws, landing):
    """With --schedule, the scheduled run may be going when deploy starts its own; the workflow
    allows one run at a time (MaxConcurrentRuns 1), so Glue refuses the second: deploy follows
    the run in progress to its end instead, and says so."""
    schedule = ("--schedule", "cron(0 3 * * ? *)")
    assert deploy(aws, landing, "--create-role", "--no-run", *schedule).returncode == 0
    glue = aws.client("glue")
    assert glue.get_workflow(Name="stedi-lakehouse")["Workflow"]["MaxConcurrentRuns"] == 1
    scheduled = glue.start_workflow_run(Name="stedi-lakehouse")["RunId"]  # as the schedule does
    with pytest.raises(glue.exceptions.ConcurrentRunsExceededException):
        glue.start_workflow_run(Name="stedi-lakehouse")  # the mended moto refuses a second run
    result = deploy(aws, landing, "--create-role", *schedule)
    assert result.returncode == 0, result.stderr
    assert (f"workflow stedi-lakehouse run {scheduled} was already running (its schedule or "
            "someone else started it; one run at a time): following that run instead"
            in result.stdout)
    assert f"✓ {len(pipeline.JOBS)} jobs succeeded" in result.stdout
    runs = glue.get_workflow_runs(Name="stedi-lakehouse")["Runs"]
    assert [(r["WorkflowRunId"], r["Status"]) for r in runs] == [(scheduled, "COMPLETED")]


# --- the alerts (#23): a failed run or data-quality evaluation is mailed ----------------------

TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:stedi-lakehouse-alerts"
RULE = "stedi-lakehouse-failures"
RULE_ARN = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{RULE}"


def alerts_state(aws) -> dict:
    """Everything AWS says of the topic, the rule, its targets and the subscriptions, without
    the answers' request metadata."""
    topics, bus = aws.client("sns"), aws.client("events")

    def answer(call, **arguments) -> dict:
        return {k: v for k, v in call(**arguments).items() if k != "ResponseMetadata"}

    return {"topics": answer(topics.list_topics),
            "topic": answer(topics.get_topic_attributes, TopicArn=TOPIC),
            "topic tags": answer(topics.list_tags_for_resource, ResourceArn=TOPIC),
            "subscriptions": answer(topics.list_subscriptions_by_topic, TopicArn=TOPIC),
            "rules": answer(bus.list_rules),
            "rule": answer(bus.describe_rule, Name=RULE),
            "rule tags": answer(bus.list_tags_for_resource, ResourceARN=RULE_ARN),
            "targets": answer(bus.list_targets_by_rule, Rule=RULE)}


def test_deploy_makes_the_topic_the_rule_and_one_subscription_and_then_changes_nothing(
        aws, landing):
    first = deploy(aws, landing, "--create-role", "--no-run", "--notify", "ana@example.com")
    assert first.returncode == 0, first.stderr
    state = alerts_state(aws)
    tag = [{"Key": "created-by", "Value": "stedi-deploy"}]
    assert [t["TopicArn"] for t in state["topics"]["Topics"]] == [TOPIC]
    assert json.loads(state["topic"]["Attributes"]["Policy"]) == {
        "Version": "2012-10-17", "Statement": [sns.events_publish_statement(TOPIC)]}
    assert state["topic tags"]["Tags"] == tag
    assert [(s["Protocol"], s["Endpoint"]) for s in state["subscriptions"]["Subscriptions"]] == [
        ("email", "ana@example.com")]
    rule = state["rule"]
    assert (rule["Arn"], rule["State"], rule["EventBusName"]) == (RULE_ARN, "ENABLED", "default")
    assert json.loads(rule["EventPattern"]) == events.failure_event_pattern(
        j.name for j in pipeline.JOBS)
    assert state["rule tags"]["Tags"] == tag
    assert state["targets"]["Targets"] == [{"Id": "lakehouse-alerts-topic", "Arn": TOPIC}]
    assert "ana@example.com: subscribed; SNS mails a link to confirm" in first.stdout
    # The same address again, typed otherwise: no second subscription, nothing rewritten.
    second = deploy(aws, landing, "--create-role", "--no-run", "--notify", "Ana@Example.com")
    assert second.returncode == 0, second.stderr
    assert alerts_state(aws) == state
    assert ("topic stedi-lakehouse-alerts unchanged" in second.stdout
            and f"rule {RULE} unchanged, its target the topic unchanged" in second.stdout)
    # moto confirms an email subscription at once; AWS waits for the link (tests/
    # test_aws_steps.py shows a pending one counts as subscribed).
    assert "Ana@Example.com: subscribed and confirmed" in second.stdout


def test_a_changed_or_disabled_rule_and_a_lost_target_are_set_back(aws, landing):
    assert deploy(aws, landing, "--create-role", "--no-run").returncode == 0
    bus = aws.client("events")
    bus.put_rule(Name=RULE, EventPattern=json.dumps({"source": ["aws.glue"]}), State="DISABLED")
    bus.remove_targets(Rule=RULE, Ids=["lakehouse-alerts-topic"])
    again = deploy(aws, landing, "--create-role", "--no-run")
    assert again.returncode == 0, again.stderr
    assert f"rule {RULE} updated, its target the topic created" in again.stdout
    rule = bus.describe_rule(Name=RULE)
    assert rule["State"] == "ENABLED"
    assert json.loads(rule["EventPattern"]) == events.failure_event_pattern(
        j.name for j in pipeline.JOBS)
    assert [t["Arn"] for t in bus.list_targets_by_rule(Rule=RULE)["Targets"]] == [TOPIC]


def test_destroy_lists_then_removes_the_rule_and_the_topic_with_its_subscriptions(aws, landing):
    deployed = deploy(aws, landing, "--create-role", "--no-run", "--notify", "ana@example.com",
                      "--notify", "bo@example.com")
    assert deployed.returncode == 0, deployed.stderr
    listing = aws.run_cli("scripts.destroy", "--bucket", BUCKET)
    assert (f"EventBridge rule {RULE} and its targets, if deploy created it" in listing.stdout
            and "SNS topic stedi-lakehouse-alerts and its subscriptions, if deploy created it"
            in listing.stdout)
    assert len(aws.client("sns").list_subscriptions()["Subscriptions"]) == 2  # nothing removed
    result = aws.run_cli("scripts.destroy", "--bucket", BUCKET, "--yes")
    assert result.returncode == 0, result.stderr
    assert aws.client("sns").list_topics()["Topics"] == []
    assert aws.client("sns").list_subscriptions()["Subscriptions"] == []
    assert aws.client("events").list_rules()["Rules"] == []
    again = aws.run_cli("scripts.destroy", "--bucket", BUCKET, "--yes")  # nothing left: fine
    assert again.returncode == 0, again.stderr


def test_a_topic_of_the_name_deploy_did_not_create_is_refused_and_kept(aws, landing):
    theirs = aws.client("sns").create_topic(Name="stedi-lakehouse-alerts")["TopicArn"]
    result = deploy(aws, landing, "--create-role", "--no-run")
    assert_one_line_error(result, "SNS topic stedi-lakehouse-alerts exists and was not created "
                                  "by deploy")
    assert aws.client("events").list_rules()["Rules"] == []
    assert aws.run_cli("scripts.destroy", "--bucket", BUCKET, "--yes").returncode == 0
    assert [t["TopicArn"] for t in aws.client("sns").list_topics()["Topics"]] == [theirs]


@pytest.mark.parametrize("address", ["not-an-email", "ana@example", "a b@example.com"])
def test_a_bad_notify_address_is_one_line_and_status_2_before_anything_is_made(aws, landing,
                                                                                address):
    result = deploy(aws, landing, "--create-role", "--notify", "ana@example.com",
                    "--notify", address)
    assert_one_line_error(result, f"deploy: argument --notify: not an email address: "
                                  f"{address!r}")
    assert aws.client("s3").list_buckets()["Buckets"] == []
    assert aws.client("sns").list_topics()["Topics"] == []


def test_the_dry_run_plans_the_alerts(aws, landing):
    result = deploy(aws, landing, "--create-role", "--dry-run", "--notify", "ana@example.com")
    assert result.returncode == 0, result.stderr
    topic = "arn:aws:sns:us-east-1:000000000000:stedi-lakehouse-alerts"
    for call in (f"sns.GetTopicAttributes(TopicArn='{topic}')",
                 "sns.CreateTopic(Name='stedi-lakehouse-alerts'",
                 f"events.DescribeRule(Name='{RULE}')", f"events.PutRule(Name='{RULE}'",
                 f"events.PutTargets(Rule='{RULE}', Targets=[{{'Id': 'lakehouse-alerts-topic', "
                 "'Arn': 'arn:aws:sns:us-east-1:000000000000:",  # the plan cuts long values
                 f"sns.Subscribe(TopicArn='{topic}', Protocol='email', "
                 "Endpoint='ana@example.com')"):
        assert call in result.stdout, call
    assert aws.client("sns").list_topics()["Topics"] == []
    assert aws.client("events").list_rules()["Rules"] == []
