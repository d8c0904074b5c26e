"""IAM: the service role that Glue assumes to run the jobs, and its least-privilege policies."""

from __future__ import annotations

import json

from scripts.aws.clients import CREATED_BY_TAG
from scripts.aws.errors import ForeignRoleError, RoleNotFoundError

GLUE_TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
}
S3_POLICY_NAME = "stedi-s3-access"
GLUE_POLICY_NAME = "stedi-glue-access"
DEVICE_KEY_POLICY_NAME = "stedi-device-key"
# What the jobs' catalog updates call (glueparquet sink with enableUpdateCatalog): read the
# database and table, create the table if absent, update its schema and location, and the
# partition calls the sink makes for partitioned tables.
JOB_CATALOG_ACTIONS = ["glue:GetDatabase", "glue:GetTable", "glue:CreateTable",
                       "glue:UpdateTable", "glue:GetPartition", "glue:GetPartitions",
                       "glue:BatchGetPartition", "glue:BatchCreatePartition"]
# Glue publishes its job metrics (--enable-metrics) in this CloudWatch namespace.
GLUE_METRICS_NAMESPACE = "Glue"
# EvaluateDataQuality publishes its rule metrics here (enableDataQualityCloudWatchMetrics; AWS
# Glue's "Setting up alerts, deployments, and scheduling": the "Glue Data Quality" namespace),
# which Glue Data Quality's EventBridge events also need.
DATA_QUALITY_METRICS_NAMESPACE = "Glue Data Quality"


# What the jobs' S3 connector calls on the bucket and on its objects. From Glue 5.1 that
# connector is Hadoop's S3A, whose documented write permissions (hadoop-aws, "Working with IAM
# Assumed Roles", Restricting S3A operations through AWS Policies) include listing and aborting
# multipart uploads, which its committers do; ListMultipartUploadParts is in that page's
# read/write example. Granted for every version: uploads of any size go in parts.
JOB_BUCKET_ACTIONS = ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"]
JOB_OBJECT_ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject",
                      "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]


def s3_access_policy(bucket: str) -> dict:
    """Read and write this bucket only (the seed's policy gave s3:* on every bucket)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ListTheLakeBucket", "Effect": "Allow", "Action": JOB_BUCKET_ACTIONS,
             "Resource": [f"arn:aws:s3:::{bucket}"]},
            {"Sid": "ReadWriteTheLake", "Effect": "Allow", "Action": JOB_OBJECT_ACTIONS,
             "Resource": [f"arn:aws:s3:::{bucket}/*"]},
        ],
    }


def catalog_resources(region: str, account: str, database: str) -> list[str]:
    """The catalog, the lake's database and its tables: Glue checks all three for a table
    call."""
    prefix = f"arn:aws:glue:{region}:{account}"
    return [f"{prefix}:catalog", f"{prefix}:database/{database}",
            f"{prefix}:table/{database}/*"]


def data_quality_rulesets(region: str, account: str) -> str:
    """The resources of glue:PublishDataQuality, whose only resource type is dataQualityRuleset
    (Service Authorization Reference, AWS Glue). The jobs' rulesets are written in the scripts
    and have no name in the catalog, so every ruleset of the region and account."""
    return f"arn:aws:glue:{region}:{account}:dataQualityRuleset/*"


def glue_access_policy(region: str, account: str, database: str) -> dict:
    """What a Glue job needs besides the lake: its database's tables in the Data Catalog, its
    logs, its metrics, and publishing its data-quality results; each on the narrowest resource
    that works."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "TheLakesCatalogTables", "Effect": "Allow", "Action": JOB_CATALOG_ACTIONS,
             "Resource": catalog_resources(region, account, database)},
            {"Sid": "JobLogs", "Effect": "Allow",
             "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
             "Resource": [f"arn:aws:logs:{region}:{account}:log-group:/aws-glue/*"]},
            {"Sid": "JobMetrics", "Effect": "Allow", "Action": ["cloudwatch:PutMetricData"],
             "Resource": "*",  # PutMetricData has no resource type; the namespace narrows it
             "Condition": {"StringEquals": {"cloudwatch:namespace": GLUE_METRICS_NAMESPACE}}},
            # EvaluateDataQuality's results (enableDataQualityResultsPublishing) and metrics.
            {"Sid": "PublishDataQualityResults", "Effect": "Allow",
             "Action": ["glue:PublishDataQuality"],
             "Resource": [data_quality_rulesets(region, account)]},
            {"Sid": "DataQualityMetrics", "Effect": "Allow", "Action": ["cloudwatch:PutMetricData"],
             "Resource": "*",  # as JobMetrics: the namespace narrows it
             "Condition": {"StringEquals": {
                 "cloudwatch:namespace": DATA_QUALITY_METRICS_NAMESPACE}}},
        ],
    }


def device_key_policy(parameter_arn: str) -> dict:
    """Read the one SecureString holding the device-id key (scripts/aws/ssm.py). No
    kms:Decrypt: the AWS managed key aws/ssm grants Decrypt to every IAM principal of the
    account, so SSM's read permissions on the parameter are the only gate (docs/privacy.md,
    "Who can read the key on AWS, exactly")."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "TheDeviceIdKey", "Effect": "Allow", "Action": ["ssm:GetParameter"],
             "Resource": [parameter_arn]},
        ],
    }


def role_arn(iam, role_name: str) -> str:
    try:
        return iam.get_role(RoleName=role_name)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException as error:
        raise RoleNotFoundError(
            f"IAM role {role_name} does not exist: pass --create-role to create it, or "
            "--role-name with an existing Glue service role") from error


def created_by_deploy(iam, role_name: str) -> bool:
    return CREATED_BY_TAG in iam.list_role_tags(RoleName=role_name)["Tags"]


def current_policy(iam, role_name: str, policy_name: str) -> dict | None:
    try:
        return iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"]
    except iam.exceptions.NoSuchEntityException:
        return None


def ensure_glue_role(iam, role_name: str, policies: dict[str, dict],
                     adopt: bool = False) -> tuple[str, str]:
    """Create the role, or update one that deploy created (or that ``adopt`` hands over), and
    put its inline ``policies`` (name: document); returns (ARN, "created", "updated" or
    "unchanged"). Only what differs is written, so that an unchanged role needs no time to
    propagate through IAM.

    A role that deploy did not create belongs to someone else: its trust policy and inline
    policies are not rewritten unless the user adopts it explicitly.
    """
    try:
        role = iam.get_role(RoleName=role_name)["Role"]
    except iam.exceptions.NoSuchEntityException:
        role = iam.create_role(RoleName=role_name,
                               AssumeRolePolicyDocument=json.dumps(GLUE_TRUST_POLICY),
                               Description="Runs the STEDI lakehouse Glue jobs",
                               Tags=[CREATED_BY_TAG])["Role"]
        outcome = "created"
    else:
        if not adopt and not created_by_deploy(iam, role_name):
            raise ForeignRoleError(
                f"IAM role {role_name} exists and was not created by deploy: pass --adopt-role "
                "to let deploy rewrite its trust policy and add its policies, or choose another "
                "--role-name")
        outcome = "unchanged"
        if role.get("AssumeRolePolicyDocument") != GLUE_TRUST_POLICY:
            iam.update_assume_role_policy(RoleName=role_name,
                                          PolicyDocument=json.dumps(GLUE_TRUST_POLICY))
            outcome = "updated"
    for name, document in policies.items():
        if outcome == "created" or current_policy(iam, role_name, name) != document:
            iam.put_role_policy(RoleName=role_name, PolicyName=name,
                                PolicyDocument=json.dumps(document))
            if outcome == "unchanged":
                outcome = "updated"
    return role["Arn"], outcome


def delete_created_role(iam, role_name: str) -> bool:
    """Delete the role only if deploy created it (tagged); False if absent or not ours.

    IAM refuses to delete a role that still has policies or instance profiles (DeleteConflict),
    so whatever someone attached to it since is detached first; the managed policies
    themselves stay.
    """
    try:
        ours = created_by_deploy(iam, role_name)
    except iam.exceptions.NoSuchEntityException:
        return False
    if not ours:
        return False
    for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role_name):
        for policy in page["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=role_name, PolicyArn=policy["PolicyArn"])
    for page in iam.get_paginator("list_role_policies").paginate(RoleName=role_name):
        for name in page["PolicyNames"]:
            iam.delete_role_policy(RoleName=role_name, PolicyName=name)
    for page in iam.get_paginator("list_instance_profiles_for_role").paginate(
            RoleName=role_name):
        for profile in page["InstanceProfiles"]:
            iam.remove_role_from_instance_profile(
                InstanceProfileName=profile["InstanceProfileName"], RoleName=role_name)
    iam.delete_role(RoleName=role_name)
    return True
