"""Athena: run a statement, wait for it, and fail with Athena's reason."""

from __future__ import annotations

from scripts.aws.errors import AthenaQueryFailedError
from scripts.aws.waiting import wait_for

TERMINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})


def results_location(bucket: str) -> str:
    return f"s3://{bucket}/athena_results/"


def run_statement(athena, sql: str, database: str, bucket: str,
                  timeout_seconds: float = 300) -> str:
    """Run one statement to completion; returns its QueryExecutionId."""
    query_id = athena.start_query_execution(
        QueryString=sql, QueryExecutionContext={"Database": database},
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
