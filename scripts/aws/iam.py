"""IAM: the service role that Glue assumes to run the jobs."""

from __future__ import annotations

import json

from scripts.aws.clients import CREATED_BY_TAG
from scripts.aws.errors import RoleNotFoundError

GLUE_TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
}
S3_POLICY_NAME = "stedi-s3-access"
GLUE_POLICY_NAME = "stedi-glue-access"


def s3_access_policy(bucket: str) -> dict:
    """Read and write this bucket only (the seed's policy gave s3:* on every bucket)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ListTheLakeBucket", "Effect": "Allow",
             "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
             "Resource": [f"arn:aws:s3:::{bucket}"]},
            {"Sid": "ReadWriteTheLake", "Effect": "Allow",
             "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
             "Resource": [f"arn:aws:s3:::{bucket}/*"]},
        ],
    }


def glue_access_policy() -> dict:
    """What a Glue job needs besides the lake: the Data Catalog, its logs and metrics."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "DataCatalog", "Effect": "Allow",
             "Action": ["glue:GetDatabase", "glue:GetDatabases", "glue:CreateDatabase",
                        "glue:GetTable", "glue:GetTables", "glue:CreateTable",
                        "glue:UpdateTable", "glue:DeleteTable", "glue:GetPartitions",
                        "glue:BatchCreatePartition", "glue:GetUserDefinedFunctions"],
             "Resource": "*"},
            {"Sid": "JobLogs", "Effect": "Allow",
             "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
                        "logs:AssociateKmsKey"],
             "Resource": ["arn:aws:logs:*:*:log-group:/aws-glue/*"]},
            {"Sid": "JobMetrics", "Effect": "Allow", "Action": ["cloudwatch:PutMetricData"],
             "Resource": "*"},
        ],
    }


def role_arn(iam, role_name: str) -> str:
    try:
        return iam.get_role(RoleName=role_name)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException as error:
        raise RoleNotFoundError(
            f"IAM role {role_name} does not exist: pass --create-role to create it, or "
            "--role-name with an existing Glue service role") from error


def ensure_glue_role(iam, role_name: str, bucket: str) -> tuple[str, bool]:
    """Create or update the role and its two inline policies; returns (ARN, created)."""
    trust = json.dumps(GLUE_TRUST_POLICY)
    try:
        arn = iam.get_role(RoleName=role_name)["Role"]["Arn"]
        iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=trust)
        created = False
    except iam.exceptions.NoSuchEntityException:
        arn = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=trust,
                              Description="Runs the STEDI lakehouse Glue jobs",
                              Tags=[CREATED_BY_TAG])["Role"]["Arn"]
        created = True
    iam.put_role_policy(RoleName=role_name, PolicyName=S3_POLICY_NAME,
                        PolicyDocument=json.dumps(s3_access_policy(bucket)))
    iam.put_role_policy(RoleName=role_name, PolicyName=GLUE_POLICY_NAME,
                        PolicyDocument=json.dumps(glue_access_policy()))
    return arn, created


def delete_created_role(iam, role_name: str) -> bool:
    """Delete the role only if deploy created it (tagged); False if absent or not ours."""
    try:
        tags = iam.list_role_tags(RoleName=role_name)["Tags"]
    except iam.exceptions.NoSuchEntityException:
        return False
    if CREATED_BY_TAG not in tags:
        return False
    for policy in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
        iam.delete_role_policy(RoleName=role_name, PolicyName=policy)
    iam.delete_role(RoleName=role_name)
    return True
