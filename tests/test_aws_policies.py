"""The IAM and bucket policies deploy builds, checked offline with parliament (duo-labs' IAM
policy linter, which knows every action's resource types and condition keys) and for the
scoping that the AWS documentation asks for. These are the exact documents deploy sends."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import pytest

from scripts.aws import events, iam, s3, sns
from scripts.aws.deploy_config import DeployConfig
from scripts.aws.deployer_policy import deployer_policy
from scripts.deploy import role_policies
from scripts.lake import pipeline
from tests.support import REPO_ROOT

with warnings.catch_warnings():  # parliament imports the deprecated pkg_resources
    warnings.simplefilter("ignore")
    from parliament import analyze_policy_string

ACCOUNT, REGION, BUCKET, DATABASE = "123456789012", "eu-west-1", "stedi-demo", "stedi"
ROLE = "AWSGlueServiceRole-stedi"


def findings(policy: dict) -> list[tuple[str, object]]:
    return [(f.issue, f.detail) for f in analyze_policy_string(json.dumps(policy)).findings]


# The role's inline policies exactly as deploy builds them (scripts/deploy.py role_policies).
ROLE_POLICIES = role_policies(DeployConfig(BUCKET, database=DATABASE), REGION, ACCOUNT)
POLICIES = {
    "role: s3": ROLE_POLICIES[iam.S3_POLICY_NAME],
    "role: glue": ROLE_POLICIES[iam.GLUE_POLICY_NAME],
    "role: device key": ROLE_POLICIES[iam.DEVICE_KEY_POLICY_NAME],
    "deployer": deployer_policy(BUCKET, DATABASE, ROLE, "stedi-lakehouse", REGION, ACCOUNT,
                                vpc=False),
    "deployer with a VPC": deployer_policy(BUCKET, DATABASE, ROLE, "stedi-lakehouse", REGION,
                                           ACCOUNT, vpc=True),
    "deployer, unscoped": deployer_policy("*", DATABASE, ROLE, "stedi-lakehouse", "*", "*",
                                          vpc=True),
    "bucket: TLS only": s3.tls_only_policy(BUCKET),
    "topic: EventBridge publishes": sns.with_events_publish(
        None, f"arn:aws:sns:{REGION}:{ACCOUNT}:stedi-lakehouse-alerts"),
}


@pytest.mark.parametrize("name", POLICIES)
def test_parliament_finds_nothing_in_the_policies_deploy_builds(name):
    assert findings(POLICIES[name]) == []


def test_parliament_does_find_a_resource_that_does_not_fit_its_action():
    """Guards the test above: the linter really checks resources against actions."""
    wrong = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "glue:DeleteDatabase",
        "Resource": f"arn:aws:glue:{REGION}:{ACCOUNT}:database/{DATABASE}"}]}
    assert [issue for issue, _ in findings(wrong)] == ["RESOURCE_MISMATCH"]


def test_the_jobs_catalog_access_is_their_database_only_and_deletes_nothing():
    [catalog, logs, metrics, *_] = iam.glue_access_policy(REGION, ACCOUNT, DATABASE)["Statement"]
    prefix = f"arn:aws:glue:{REGION}:{ACCOUNT}"
    assert catalog["Resource"] == [f"{prefix}:catalog", f"{prefix}:database/{DATABASE}",
                                   f"{prefix}:table/{DATABASE}/*"]
    assert not any("Delete" in action or "CreateDatabase" in action
                   for action in catalog["Action"])
    assert logs["Resource"] == [f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws-glue/*"]
    assert "logs:AssociateKmsKey" not in logs["Action"]
    assert metrics["Condition"] == {"StringEquals": {"cloudwatch:namespace": "Glue"}}


def test_the_deployer_may_pass_the_role_to_glue_only():
    statements = POLICIES["deployer"]["Statement"]
    [passing] = [s for s in statements if "iam:PassRole" in s["Action"]]
    assert passing["Resource"] == [f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"]
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "glue.amazonaws.com"}}
    actions = {a for s in statements for a in s["Action"]}
    assert {"iam:TagRole", "glue:StartWorkflowRun", "glue:GetWorkflowRun"} <= actions
    assert not any(a.startswith("ec2:") for a in actions)  # only with --vpc-id
    job_resources = next(s["Resource"] for s in statements if "glue:CreateJob" in s["Action"])
    assert job_resources == [f"arn:aws:glue:{REGION}:{ACCOUNT}:job/{j.name}"
                             for j in pipeline.JOBS]


def print_policy(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scripts.deploy", "--print-deployer-policy",
                           *arguments], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=120, env={"PATH": "/usr/bin:/bin", "AWS_CONFIG_FILE": "/none",
                                            "AWS_SHARED_CREDENTIALS_FILE": "/none"})


def test_print_deployer_policy_needs_no_credentials_and_prints_the_policy():
    result = print_policy("--bucket", BUCKET, "--region", REGION, "--vpc-id", "vpc-1")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == deployer_policy(BUCKET, DATABASE, ROLE,
                                                        "stedi-lakehouse", REGION, "*", vpc=True)


def test_print_deployer_policy_without_a_bucket_says_the_policy_is_unscoped():
    result = print_policy()
    assert result.returncode == 0, result.stderr
    assert "pass them to scope it" in result.stderr
    assert findings(json.loads(result.stdout)) == []


def test_the_role_reads_the_one_key_parameter_and_writes_no_parameter():
    """Parliament checks the ARN fits ssm:GetParameter's resource type; here, that it is the
    one parameter deploy makes, with no wildcard, and no other role policy names SSM."""
    arn = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/stedi-lakehouse/{DATABASE}/device-id-key"
    assert POLICIES["role: device key"]["Statement"] == [
        {"Sid": "TheDeviceIdKey", "Effect": "Allow", "Action": ["ssm:GetParameter"],
         "Resource": [arn]}]
    assert "ssm:" not in json.dumps([POLICIES["role: s3"], POLICIES["role: glue"]])


def test_the_role_may_list_and_abort_multipart_uploads_as_s3a_committers_do():
    """From Glue 5.1 the jobs reach S3 through Hadoop's S3A, whose documented write permissions
    include s3:ListBucketMultipartUploads on the bucket and s3:AbortMultipartUpload on its
    objects (hadoop-aws, assumed_roles.md); s3:ListMultipartUploadParts is in that page's
    read/write example. On the bucket and its objects only."""
    assert sorted(ROLE_POLICIES) == ["stedi-device-key", "stedi-glue-access", "stedi-s3-access"]
    assert ROLE_POLICIES["stedi-s3-access"]["Statement"] == [
        {"Sid": "ListTheLakeBucket", "Effect": "Allow",
         "Action": ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"],
         "Resource": [f"arn:aws:s3:::{BUCKET}"]},
        {"Sid": "ReadWriteTheLake", "Effect": "Allow",
         "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject",
                    "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
         "Resource": [f"arn:aws:s3:::{BUCKET}/*"]}]


def test_the_deployer_manages_the_lakes_workgroup_only_and_queries_in_it():
    statements = {s["Sid"]: s for s in POLICIES["deployer"]["Statement"]}
    workgroup = f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/stedi-lakehouse"
    assert statements["TheLakesAthenaWorkgroup"]["Resource"] == [workgroup]
    assert statements["TheLakesAthenaWorkgroup"]["Action"] == [
        "athena:CreateWorkGroup", "athena:GetWorkGroup", "athena:UpdateWorkGroup",
        "athena:DeleteWorkGroup"]
    # primary: destroy's DROP TABLEs of a deployment made before the lake had its workgroup
    assert statements["AthenaForTheDdlCountsAndProofs"]["Resource"] == [
        workgroup, f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/primary"]
    assert statements["FindTheWorkgroup"]["Action"] == ["athena:ListWorkGroups"]
    assert not any(a.startswith("kms:") for s in statements.values() for a in s["Action"])


# --- the policies the Glue Studio steps (docs/glue-studio.md) have a person type in CloudShell --

def readme_cloudshell_iam_calls() -> list[list[str]]:
    """Every `aws iam ...` line of the console steps (docs/glue-studio.md), run by bash exactly
    as typed, with the variables the steps set and an `aws` that records its arguments instead
    of calling AWS."""
    steps = (REPO_ROOT / "docs" / "glue-studio.md").read_text()
    lines = [line for line in steps.splitlines() if line.startswith("aws iam ")]
    recorder = (f"aws() {{ {sys.executable} -c "
                "'import json, sys; print(json.dumps(sys.argv[1:]))' \"$@\"; }")
    variables = (f"BUCKET={BUCKET}; ROLE=AWSGlueServiceRole-stedi-studio; KEYS={BUCKET}-keys; "
                 f"ARN=arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/stedi-lakehouse/stedi/"
                 "device-id-key")
    script = "\n".join([variables, recorder, *lines])
    output = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    return [json.loads(line) for line in output.stdout.splitlines()]


def policy_document(arguments: list[str]) -> dict:
    flag = next(f for f in ("--policy-document", "--assume-role-policy-document")
                if f in arguments)
    return json.loads(arguments[arguments.index(flag) + 1])


def test_the_readmes_cloudshell_policies_are_valid_and_give_what_deploys_role_has():
    calls = readme_cloudshell_iam_calls()
    assert [arguments[1] for arguments in calls] == [
        "create-role", "attach-role-policy", "put-role-policy",  # the role
        "put-role-policy",  # the key in SSM
        "put-role-policy"]  # or, where SSM is not allowed, in S3
    create, attach, lake, ssm_key, s3_key = calls
    # Trust policies are no permission policies (parliament would call it malformed): the same
    # trust deploy gives its role.
    assert policy_document(create) == iam.GLUE_TRUST_POLICY
    assert attach[attach.index("--policy-arn") + 1] == (
        "arn:aws:iam::aws:policy/service-role/AWSGlueServiceRole")
    for document in map(policy_document, (lake, ssm_key, s3_key)):
        assert findings(document) == []
    granted = grants(policy_document(lake))
    # What deploy's role may do on the lake, less GetBucketLocation, which the managed
    # AWSGlueServiceRole that the steps attach grants on every bucket.
    needed = {(action, f"arn:aws:s3:::{BUCKET}") for action in iam.JOB_BUCKET_ACTIONS
              if action != "s3:GetBucketLocation"}
    needed |= {(action, f"arn:aws:s3:::{BUCKET}/*") for action in iam.JOB_OBJECT_ACTIONS}
    assert granted == needed
    arn = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/stedi-lakehouse/stedi/device-id-key"
    assert grants(policy_document(ssm_key)) == grants(iam.device_key_policy(arn))
    assert grants(policy_document(s3_key)) == {
        ("s3:GetObject", f"arn:aws:s3:::{BUCKET}-keys/stedi/device-id.key")}


def grants(policy: dict) -> set[tuple[str, str]]:
    """The (action, resource) pairs a policy of Allow statements grants."""
    def listed(value):
        return [value] if isinstance(value, str) else value
    assert all(statement["Effect"] == "Allow" for statement in policy["Statement"])
    return {(action, resource) for statement in policy["Statement"]
            for action in listed(statement["Action"]) for resource in listed(statement["Resource"])}


# --- the alerts (#23): what the jobs' data-quality results need, and the topic and rule ---------

def test_the_role_publishes_data_quality_results_and_metrics_in_their_namespace_only():
    """glue:PublishDataQuality has one resource type, dataQualityRuleset (parliament, from the
    Service Authorization Reference, checks the ARN fits it); the jobs' rulesets are inline and
    nameless, so every ruleset of this region and account. cloudwatch:PutMetricData has no
    resource type: the namespace condition is the only narrowing, as for the job metrics."""
    statements = {s["Sid"]: s for s in iam.glue_access_policy(REGION, ACCOUNT,
                                                               DATABASE)["Statement"]}
    assert statements["PublishDataQualityResults"] == {
        "Sid": "PublishDataQualityResults", "Effect": "Allow",
        "Action": ["glue:PublishDataQuality"],
        "Resource": [f"arn:aws:glue:{REGION}:{ACCOUNT}:dataQualityRuleset/*"]}
    assert statements["DataQualityMetrics"] == {
        "Sid": "DataQualityMetrics", "Effect": "Allow", "Action": ["cloudwatch:PutMetricData"],
        "Resource": "*",
        "Condition": {"StringEquals": {"cloudwatch:namespace": "Glue Data Quality"}}}
    assert statements["JobMetrics"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": "Glue"}}
    assert findings(ROLE_POLICIES[iam.GLUE_POLICY_NAME]) == []


def test_the_deployer_manages_the_alerts_topic_and_rule_only():
    statements = {s["Sid"]: s for s in POLICIES["deployer"]["Statement"]}
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:stedi-lakehouse-alerts"
    rule = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/stedi-lakehouse-failures"
    assert statements["TheAlertsTopic"]["Resource"] == [topic]
    assert statements["TheFailuresRule"]["Resource"] == [rule]
    # what deploy and destroy call, and nothing more
    assert sorted(statements["TheAlertsTopic"]["Action"]) == sorted(
        ["sns:CreateTopic", "sns:TagResource", "sns:GetTopicAttributes", "sns:SetTopicAttributes",
         "sns:ListTagsForResource", "sns:ListSubscriptionsByTopic", "sns:Subscribe",
         "sns:DeleteTopic"])
    assert sorted(statements["TheFailuresRule"]["Action"]) == sorted(
        ["events:PutRule", "events:TagResource", "events:DescribeRule",
         "events:ListTagsForResource", "events:PutTargets", "events:ListTargetsByRule",
         "events:RemoveTargets", "events:DeleteRule"])
    others = [s for sid, s in statements.items() if sid not in ("TheAlertsTopic",
                                                                 "TheFailuresRule")]
    assert not any(a.startswith(("sns:", "events:")) for s in others for a in s["Action"])
    assert "iam:PassRole" not in statements["TheFailuresRule"]["Action"]  # the target has no role
    assert sns.topic_arn(REGION, ACCOUNT, sns.alerts_topic_name(DATABASE)) == topic
    assert events.rule_arn(REGION, ACCOUNT, events.failures_rule_name(DATABASE)) == rule


def test_the_topic_lets_eventbridge_publish_as_the_eventbridge_guide_writes_it():
    """The statement of the EventBridge User Guide's "Amazon SNS permissions", which says "You
    can't use Condition blocks in Amazon SNS topic policies for EventBridge": no aws:SourceArn.
    A policy someone else gave the topic keeps its statements; deploy's replaces itself."""
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:stedi-lakehouse-alerts"
    ours = {"Sid": "EventBridgePublishesAlerts", "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"}, "Action": "sns:Publish",
            "Resource": topic}
    assert POLICIES["topic: EventBridge publishes"] == {"Version": "2012-10-17",
                                                        "Statement": [ours]}
    theirs = {"Sid": "__default_statement_ID", "Effect": "Allow", "Principal": {"AWS": "*"},
              "Action": ["SNS:Publish"], "Resource": topic,
              "Condition": {"StringEquals": {"AWS:SourceOwner": ACCOUNT}}}
    stale = {**ours, "Resource": "arn:aws:sns:us-east-1:1:old"}
    existing = {"Version": "2008-10-17", "Id": "__default_policy_ID",
                "Statement": [theirs, stale]}
    assert sns.with_events_publish(existing, topic) == {
        "Version": "2008-10-17", "Id": "__default_policy_ID", "Statement": [theirs, ours]}
