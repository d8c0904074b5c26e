"""The least-privilege IAM policy of whoever runs deploy and destroy
(`python -m scripts.deploy --print-deployer-policy`).

Every statement is scoped to what deploy names: the bucket, the role, the database and its
tables, the five jobs, the workflow and its triggers, the device-id key's SSM parameter, the
lake's Athena workgroup (and Athena's primary one, where destroy drops the tables of a
deployment made before the lake had a workgroup of its own), the alerts topic and the
EventBridge rule that feeds it. Athena runs the DDL with the caller's own Glue and S3
permissions, hence the table and bucket actions. ExpectedBucketOwner, which every S3 call
carries, needs no permission, nor does sts:GetCallerIdentity.
"""

from __future__ import annotations

from scripts.aws.athena import PRIMARY_WORKGROUP, workgroup_name
from scripts.aws.events import failures_rule_name, rule_arn
from scripts.aws.iam import catalog_resources
from scripts.aws.sns import alerts_topic_name, topic_arn
from scripts.aws.ssm import device_key_parameter, parameter_arn
from scripts.lake import pipeline

GLUE_SERVICE = "glue.amazonaws.com"


def deployer_policy(bucket: str, database: str, role_name: str, workflow: str, region: str,
                    account: str, vpc: bool) -> dict:
    glue = f"arn:aws:glue:{region}:{account}"
    athena = f"arn:aws:athena:{region}:{account}:workgroup"
    statements = [
        {"Sid": "TheLakeBucket", "Effect": "Allow",
         "Action": ["s3:CreateBucket", "s3:DeleteBucket", "s3:ListBucket",
                    "s3:GetBucketLocation", "s3:PutBucketPublicAccessBlock",
                    "s3:PutEncryptionConfiguration", "s3:GetBucketPolicy",
                    "s3:PutBucketPolicy", "s3:GetLifecycleConfiguration",
                    "s3:PutLifecycleConfiguration"],
         "Resource": [f"arn:aws:s3:::{bucket}"]},
        # AbortMultipartUpload: boto3's uploads of large files go in parts, and abort on failure.
        {"Sid": "TheLakeObjects", "Effect": "Allow",
         "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject",
                    "s3:AbortMultipartUpload"],
         "Resource": [f"arn:aws:s3:::{bucket}/*"]},
        {"Sid": "TheGlueServiceRole", "Effect": "Allow",
         "Action": ["iam:GetRole", "iam:CreateRole", "iam:TagRole", "iam:ListRoleTags",
                    "iam:UpdateAssumeRolePolicy", "iam:PutRolePolicy", "iam:GetRolePolicy",
                    "iam:ListRolePolicies", "iam:DeleteRolePolicy",
                    "iam:ListAttachedRolePolicies", "iam:DetachRolePolicy",
                    "iam:ListInstanceProfilesForRole", "iam:DeleteRole"],
         "Resource": [f"arn:aws:iam::{account}:role/{role_name}"]},
        {"Sid": "PassTheRoleToGlueOnly", "Effect": "Allow", "Action": ["iam:PassRole"],
         "Resource": [f"arn:aws:iam::{account}:role/{role_name}"],
         "Condition": {"StringEquals": {"iam:PassedToService": GLUE_SERVICE}}},
        {"Sid": "InstanceProfilesOfTheRoleOnDestroy", "Effect": "Allow",
         "Action": ["iam:RemoveRoleFromInstanceProfile"],
         "Resource": [f"arn:aws:iam::{account}:instance-profile/*"]},
        {"Sid": "TheCatalogDatabaseAndTables", "Effect": "Allow",
         "Action": ["glue:GetDatabase", "glue:CreateDatabase", "glue:DeleteDatabase",
                    "glue:GetTable", "glue:GetTables", "glue:CreateTable", "glue:DeleteTable",
                    "glue:UpdateTable", "glue:GetPartitions"],
         # DeleteDatabase deletes the database's functions too, so IAM checks those as well.
         "Resource": [*catalog_resources(region, account, database),
                      f"{glue}:userDefinedFunction/{database}/*"]},
        {"Sid": "TheJobs", "Effect": "Allow",
         "Action": ["glue:GetJob", "glue:CreateJob", "glue:UpdateJob", "glue:DeleteJob",
                    "glue:GetJobRun", "glue:GetJobRuns"],
         "Resource": [f"{glue}:job/{job.name}" for job in pipeline.JOBS]},
        {"Sid": "TheWorkflowAndItsTriggers", "Effect": "Allow",
         "Action": ["glue:GetWorkflow", "glue:CreateWorkflow", "glue:DeleteWorkflow",
                    "glue:StartWorkflowRun", "glue:GetWorkflowRun", "glue:GetTrigger",
                    "glue:CreateTrigger", "glue:UpdateTrigger", "glue:DeleteTrigger"],
         "Resource": [f"{glue}:workflow/{workflow}", f"{glue}:trigger/{workflow}-*"]},
        # Created once, never overwritten; read by the erasure tool for its keyed hashes.
        {"Sid": "TheDeviceIdKey", "Effect": "Allow",
         "Action": ["ssm:PutParameter", "ssm:AddTagsToResource", "ssm:GetParameter",
                    "ssm:DeleteParameter"],
         "Resource": [parameter_arn(region, account, device_key_parameter(database))]},
        {"Sid": "TheLakesAthenaWorkgroup", "Effect": "Allow",
         "Action": ["athena:CreateWorkGroup", "athena:GetWorkGroup", "athena:UpdateWorkGroup",
                    "athena:DeleteWorkGroup"],
         "Resource": [f"{athena}/{workgroup_name(database)}"]},
        {"Sid": "AthenaForTheDdlCountsAndProofs", "Effect": "Allow",
         "Action": ["athena:StartQueryExecution", "athena:GetQueryExecution",
                    "athena:GetQueryResults"],
         "Resource": [f"{athena}/{workgroup_name(database)}", f"{athena}/{PRIMARY_WORKGROUP}"]},
        {"Sid": "FindTheWorkgroup", "Effect": "Allow", "Action": ["athena:ListWorkGroups"],
         "Resource": "*"},  # ListWorkGroups supports no resource-level permissions
        # Tagging at creation needs sns:TagResource besides sns:CreateTopic; deleting the topic
        # deletes its subscriptions, so there is no Unsubscribe.
        {"Sid": "TheAlertsTopic", "Effect": "Allow",
         "Action": ["sns:CreateTopic", "sns:TagResource", "sns:GetTopicAttributes",
                    "sns:SetTopicAttributes", "sns:ListTagsForResource",
                    "sns:ListSubscriptionsByTopic", "sns:Subscribe", "sns:DeleteTopic"],
         "Resource": [topic_arn(region, account, alerts_topic_name(database))]},
        # PutRule carries the tag, hence events:TagResource.
        {"Sid": "TheFailuresRule", "Effect": "Allow",
         "Action": ["events:PutRule", "events:TagResource", "events:DescribeRule",
                    "events:ListTagsForResource", "events:PutTargets",
                    "events:ListTargetsByRule", "events:RemoveTargets", "events:DeleteRule"],
         "Resource": [rule_arn(region, account, failures_rule_name(database))]},
    ]
    if vpc:
        statements += [
            {"Sid": "FindTheVpcAndItsEndpoint", "Effect": "Allow",
             "Action": ["ec2:DescribeVpcs", "ec2:DescribeRouteTables",
                        "ec2:DescribeVpcEndpoints"],
             "Resource": "*"},  # Describe calls support no resource-level permissions
            {"Sid": "TheS3GatewayEndpoint", "Effect": "Allow",
             "Action": ["ec2:CreateVpcEndpoint", "ec2:ModifyVpcEndpoint",
                        "ec2:DeleteVpcEndpoints", "ec2:CreateTags"],
             "Resource": [f"arn:aws:ec2:{region}:{account}:vpc-endpoint/*",
                          f"arn:aws:ec2:{region}:{account}:vpc/*",
                          f"arn:aws:ec2:{region}:{account}:route-table/*"]},
        ]
    return {"Version": "2012-10-17", "Statement": statements}
