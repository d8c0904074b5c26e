"""Athena: the lake's own workgroup, and running a statement in it to the end, failing with
Athena's reason.

Every query of deploy, destroy and forget runs in a workgroup of the project's own, made by
deploy: its result location is the bucket's athena_results/ prefix and it enforces that
configuration. A workgroup that enforces its own configuration overrides what a query asks for,
so running in the account's primary workgroup (or any other) would leave the results where that
workgroup says, perhaps in a bucket deploy does not expire or even know. Here the workgroup and
the location are deploy's, whatever the account's other workgroups enforce.
"""

from __future__ import annotations

from scripts.aws.errors import AthenaQueryFailedError
from scripts.aws.waiting import wait_for

TERMINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})
# Athena's own workgroup of every account, where queries of a deployment made before deploy had
# a workgroup of its own ran (destroy falls back to it for such a deployment).
PRIMARY_WORKGROUP = "primary"


def results_location(bucket: str) -> str:
    return f"s3://{bucket}/athena_results/"


def workgroup_name(database: str) -> str:
    """The lake's workgroup, one per lake database (named as its Glue workflow)."""
    return f"{database}-lakehouse"


def workgroup_configuration(bucket: str) -> dict:
    """Results under the bucket's athena_results/ (SSE-S3, as the bucket), enforced."""
    return {"ResultConfiguration": {"OutputLocation": results_location(bucket),
                                    "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"}},
            "EnforceWorkGroupConfiguration": True}


def workgroup_exists(athena, name: str) -> bool:
    """Whether the workgroup exists. Listed rather than read: GetWorkGroup answers a missing
    workgroup with the same InvalidRequestException as other mistakes."""
    arguments: dict = {}
    while True:
        page = athena.list_work_groups(**arguments)
        if any(group["Name"] == name for group in page.get("WorkGroups", [])):
            return True
        if not page.get("NextToken"):
            return False
        arguments = {"NextToken": page["NextToken"]}


def configuration_differs(current: dict, desired: dict) -> bool:
    results, wanted = current.get("ResultConfiguration", {}), desired["ResultConfiguration"]
    return (current.get("EnforceWorkGroupConfiguration") is not True
            or results.get("OutputLocation") != wanted["OutputLocation"]
            or results.get("EncryptionConfiguration") != wanted["EncryptionConfiguration"])


def ensure_workgroup(athena, name: str, bucket: str) -> str:
    """Create the lake's workgroup, or set its result location and enforcement back where they
    differ; returns "created", "updated" or "unchanged"."""
    desired = workgroup_configuration(bucket)
    if not workgroup_exists(athena, name):
        # Untagged: tagging at creation needs athena:TagResource, and nothing reads a tag here
        # (the workgroup is named after the lake's database, and destroy removes it by name).
        athena.create_work_group(Name=name, Configuration=desired,
                                 Description="STEDI lakehouse: deploy's DDL, counts and proofs")
        return "created"
    current = athena.get_work_group(WorkGroup=name)["WorkGroup"].get("Configuration", {})
    if not configuration_differs(current, desired):
        return "unchanged"
    athena.update_work_group(WorkGroup=name, ConfigurationUpdates={
        "EnforceWorkGroupConfiguration": True,
        "ResultConfigurationUpdates": desired["ResultConfiguration"]})
    return "updated"


def delete_workgroup(athena, name: str) -> bool:
    """Delete the workgroup with its saved queries and history; False if it was not there."""
    if not workgroup_exists(athena, name):
        return False
    athena.delete_work_group(WorkGroup=name, RecursiveDeleteOption=True)
    return True


def run_statement(athena, sql: str, database: str, bucket: str,
                  timeout_seconds: float = 300, workgroup: str | None = None) -> str:
    """Run one statement to completion in the lake's workgroup (``workgroup`` names another);
    returns its QueryExecutionId. The result location is sent too, for a workgroup that does
    not enforce one (the lake's does, and the same)."""
    query_id = athena.start_query_execution(
        QueryString=sql, QueryExecutionContext={"Database": database},
        WorkGroup=workgroup or workgroup_name(database),
        ResultConfiguration={"OutputLocation": results_location(bucket)})["QueryExecutionId"]
    execution = wait_for(
        lambda: athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"],
        lambda e: e["Status"]["State"] in TERMINAL_STATES,
        what=f"Athena query {query_id}", timeout_seconds=timeout_seconds, first_delay=0.2)
    status = execution["Status"]
    if status["State"] != "SUCCEEDED":
        first_line = sql.strip().splitlines()[0][:80]
        raise AthenaQueryFailedError(
            f"Athena query {status['State']}: {status.get('StateChangeReason', 'no reason given')}"
            f" (query {query_id}: {first_line})")
    return query_id


def scalar(athena, sql: str, database: str, bucket: str) -> str | None:
    """The first column of the first data row of a query (the header row is skipped)."""
    query_id = run_statement(athena, sql, database, bucket)
    rows = athena.get_query_results(QueryExecutionId=query_id)["ResultSet"]["Rows"]
    if len(rows) < 2:
        return None
    return rows[1]["Data"][0].get("VarCharValue")
