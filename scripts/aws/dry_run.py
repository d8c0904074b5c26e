"""Dry runs: the real deploy code runs, but no request leaves the machine.

A handler on botocore's ``before-call`` event answers every operation itself, as AWS would
answer for an account where nothing exists yet (reads find nothing, writes succeed, queries and
job runs succeed at once), and records the call. The recorded calls are the plan: exactly the
calls a deploy into a fresh account makes, with their parameters, already validated by botocore
against the service model. No credentials are needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse

from scripts.lake import pipeline

DRY_RUN_ID = "dry-run"

# Reads that find nothing in a fresh account, as (status, error code).
NOT_FOUND = {
    ("s3", "HeadBucket"): (404, "404"),
    ("s3", "HeadObject"): (404, "404"),
    ("s3", "GetBucketPolicy"): (404, "NoSuchBucketPolicy"),
    ("s3", "GetBucketLifecycleConfiguration"): (404, "NoSuchLifecycleConfiguration"),
    ("iam", "GetRole"): (404, "NoSuchEntity"),
    ("glue", "GetDatabase"): (400, "EntityNotFoundException"),
    ("glue", "GetJob"): (400, "EntityNotFoundException"),
    ("glue", "GetWorkflow"): (400, "EntityNotFoundException"),
    ("glue", "GetTrigger"): (400, "EntityNotFoundException"),
    ("sns", "GetTopicAttributes"): (404, "NotFound"),
    ("events", "DescribeRule"): (400, "ResourceNotFoundException"),
}

# Answers whose content the deploy code reads.
ANSWERS: dict[tuple[str, str], dict] = {
    ("sts", "GetCallerIdentity"): {"Account": "000000000000",
                                   "Arn": "arn:aws:iam::000000000000:user/dry-run"},
    ("iam", "CreateRole"): {"Role": {"RoleName": DRY_RUN_ID,
                                     "Arn": "arn:aws:iam::000000000000:role/dry-run"}},
    ("ec2", "DescribeVpcs"): {"Vpcs": [{"VpcId": DRY_RUN_ID}]},
    ("ec2", "DescribeRouteTables"): {"RouteTables": [{"RouteTableId": DRY_RUN_ID}]},
    ("ec2", "DescribeVpcEndpoints"): {"VpcEndpoints": []},
    ("ec2", "CreateVpcEndpoint"): {"VpcEndpoint": {"VpcEndpointId": DRY_RUN_ID}},
    ("athena", "ListWorkGroups"): {"WorkGroups": [{"Name": "primary"}]},
    ("athena", "StartQueryExecution"): {"QueryExecutionId": DRY_RUN_ID},
    ("athena", "GetQueryExecution"): {"QueryExecution": {"Status": {"State": "SUCCEEDED"}}},
    ("athena", "GetQueryResults"): {"ResultSet": {"Rows": []}},
    ("glue", "StartWorkflowRun"): {"RunId": DRY_RUN_ID},
    # Every job of the workflow ran and succeeded at once.
    ("glue", "GetWorkflowRun"): {"Run": {"Status": "COMPLETED", "Graph": {"Nodes": [
        {"Type": "JOB", "Name": job.name, "JobDetails": {"JobRuns": [
            {"Id": DRY_RUN_ID, "JobRunState": "SUCCEEDED", "ExecutionTime": 0}]}}
        for job in pipeline.JOBS]}}},
    ("s3", "ListObjectsV2"): {"Contents": [], "KeyCount": 0, "IsTruncated": False},
}


# Parameters never shown in a plan: a secret, even a dry run's random one, is not printed.
SECRET_PARAMETERS = {("ssm", "PutParameter"): "Value"}


@dataclass(frozen=True)
class PlannedCall:
    service: str
    operation: str
    params: dict[str, Any]

    def describe(self) -> str:
        shown = ", ".join(f"{key}={short(value)}" for key, value in self.params.items())
        return f"{self.service}.{self.operation}({shown})"


def short(value: Any, limit: int = 90) -> str:
    """A parameter as it appears in the plan: long text (DDL, policies) cut with its length."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text)} chars)"


@dataclass
class DryRun:
    """Attach to clients with ``attach``; ``calls`` is the plan, in order.

    ``existing`` answers reads of resources the options say are there already (for example the
    role named by --role-name without --create-role), instead of "not found".
    """

    existing: dict[tuple[str, str], dict] = field(default_factory=dict)
    calls: list[PlannedCall] = field(default_factory=list)

    def attach(self, client: Any) -> None:
        # Recorded once every provider of parameters has run (the S3 client adds
        # ExpectedBucketOwner on provide-client-params), before botocore validates them.
        client.meta.events.register("before-parameter-build.*.*", self._record)
        client.meta.events.register("before-call.*.*", self._answer)

    def _record(self, params: dict, model: Any, **_: Any) -> None:
        service = model.service_model.service_name
        shown = dict(params)
        secret = SECRET_PARAMETERS.get((service, model.name))
        if secret in shown:
            shown[secret] = "(secret, not shown)"
        self.calls.append(PlannedCall(service, model.name, shown))

    def _answer(self, model: Any, **_: Any) -> tuple[AWSResponse, dict]:
        key = (model.service_model.service_name, model.name)
        if key in self.existing:
            return (AWSResponse("dry-run://", 200, {}, None),
                    {**self.existing[key], "ResponseMetadata": {"HTTPStatusCode": 200}})
        if key in NOT_FOUND:
            status, code = NOT_FOUND[key]
            return (AWSResponse("dry-run://", status, {}, None),
                    {"Error": {"Code": code, "Message": "not found (dry run)"},
                     "ResponseMetadata": {"HTTPStatusCode": status}})
        return (AWSResponse("dry-run://", 200, {}, None),
                {**ANSWERS.get(key, {}), "ResponseMetadata": {"HTTPStatusCode": 200}})
