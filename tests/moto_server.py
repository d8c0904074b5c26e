"""A real moto server on loopback for the deploy tests, and what they need around it.

The deploy tool is driven as a user drives it (its own process, --endpoint-url) against moto's
threaded HTTP server, which runs inside the test process so that tests can read and seed it.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import boto3
import requests
from botocore.config import Config
from moto.server import ThreadedMotoServer

from tests.support import REPO_ROOT

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
NO_RETRIES = Config(retries={"total_max_attempts": 1})
TEST_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
# No file or instance metadata may lend real credentials to a test.
ISOLATED_AWS_ENVIRONMENT = {"AWS_CONFIG_FILE": "/nonexistent", "AWS_DEFAULT_REGION": REGION,
                            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
                            "AWS_EC2_METADATA_DISABLED": "true"}


class MotoServer:
    def __init__(self) -> None:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.url = ""

    def start(self) -> "MotoServer":
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        self._server.stop()

    def reset(self) -> None:
        requests.post(f"{self.url}/moto-api/reset", timeout=30).raise_for_status()

    def client(self, service: str):
        return boto3.client(service, region_name=REGION, endpoint_url=self.url,
                            config=NO_RETRIES, **{k.lower(): v for k, v in
                                                  TEST_CREDENTIALS.items()})

    def seed_athena_results(self, results: list[list[str] | None]) -> None:
        """Queue Athena results, consumed one per started query in order (None: no rows)."""
        payload = {"account_id": ACCOUNT, "region": REGION, "results": [
            {"rows": [] if values is None else
             [{"Data": [{"VarCharValue": "_col0"}]}] + [{"Data": [{"VarCharValue": v}]}
                                                        for v in values]}
            for values in results]}
        requests.post(f"{self.url}/moto-api/static/athena/query-results", json=payload,
                      timeout=30).raise_for_status()

    def athena_queries(self) -> list[str]:
        """Every query Athena received, in the order they started."""
        athena = self.client("athena")
        ids = athena.list_query_executions()["QueryExecutionIds"]
        return [athena.get_query_execution(QueryExecutionId=i)["QueryExecution"]["Query"]
                for i in ids]

    def run_cli(self, module: str, *arguments: str, credentials: bool = True
                ) -> subprocess.CompletedProcess:
        environment = {key: value for key, value in os.environ.items()
                       if not key.startswith("AWS_")}
        environment.update(ISOLATED_AWS_ENVIRONMENT)
        if credentials:
            environment.update(TEST_CREDENTIALS)
        return subprocess.run([sys.executable, "-m", module, *arguments,
                               "--endpoint-url", self.url], cwd=REPO_ROOT, env=environment,
                              capture_output=True, text=True, timeout=300)


def relative_files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


# --- Glue workflow runs: moto 5.2.5 records a workflow run but runs nothing ---------------------

FINAL_JOB_STATES = {"SUCCEEDED", "FAILED", "STOPPED", "TIMEOUT", "ERROR", "EXPIRED"}


def run_workflows_as_glue_does(monkeypatch) -> None:
    """Make the in-process moto server run a started workflow as Glue does: the start trigger's
    jobs at once, then each conditional trigger once all its conditions hold, the job runs
    carrying --WORKFLOW_NAME and --WORKFLOW_RUN_ID; get_workflow_run answers with the run's
    graph (its jobs and their runs) and ends COMPLETED when nothing more can start. Job runs
    advance as moto's own do, and a test that fails a job run (FakeJobRun.as_dict) stops the
    jobs after it, as on AWS."""
    from moto.glue import models

    def backend():
        return models.glue_backends[ACCOUNT][REGION]

    def states(run) -> dict[str, str]:
        return {name: job_run.as_dict()["JobRunState"] for name, job_run in run.job_runs.items()}

    def conditions_hold(trigger, run) -> bool:
        current = states(run)
        return all(current.get(c["JobName"]) == c["State"]
                   for c in trigger.predicate.as_dict()["Conditions"])

    def fire_ready_triggers(run) -> bool:
        glue, fired = backend(), False
        for trigger in list(glue.triggers.values()):
            if trigger.workflow_name != run.workflow_name or trigger.name in run.fired:
                continue
            starts_run = trigger.trigger_type in ("ON_DEMAND", "SCHEDULED")
            if not (starts_run or conditions_hold(trigger, run)):
                continue
            run.fired.add(trigger.name)
            fired = True
            for action in trigger.actions:
                job = glue.get_job(action.job_name)
                run_id = job.start_job_run(
                    allocated_capacity=None, max_capacity=None, timeout=None, worker_type=None,
                    security_configuration=None, number_of_workers=None,
                    notification_property=None, previous_run_id=None,
                    arguments={"--WORKFLOW_NAME": run.workflow_name,
                               "--WORKFLOW_RUN_ID": run.run_id})
                run.job_runs[job.name] = next(r for r in job.job_runs if r.job_run_id == run_id)
        return fired

    original_start = models.FakeWorkflow.start_run
    original_as_dict = models.FakeWorkflowRun.as_dict

    def start_run(workflow, properties):
        run_id = original_start(workflow, properties)
        run = workflow.runs[run_id]
        run.job_runs, run.fired = {}, set()
        fire_ready_triggers(run)
        return run_id

    def as_dict(run):
        answer = original_as_dict(run)
        if not hasattr(run, "job_runs"):
            return answer
        fired = True
        while fired:  # moto's job runs end at once: the jobs they unblock start at once too
            for job_run in run.job_runs.values():
                job_run.advance()
            fired = fire_ready_triggers(run)
        if set(states(run).values()) <= FINAL_JOB_STATES:
            run.status = "COMPLETED"
        answer["Status"] = run.status
        answer["Graph"] = {"Nodes": [
            {"Type": "JOB", "Name": name, "JobDetails": {"JobRuns": [job_run.as_dict()]}}
            for name, job_run in run.job_runs.items()]}
        return answer

    monkeypatch.setattr(models.FakeWorkflow, "start_run", start_run)
    monkeypatch.setattr(models.FakeWorkflowRun, "as_dict", as_dict)


# --- S3 bucket policies: moto 5.2.5 ignores their conditions --------------------------------------

def evaluate_bucket_policies_as_for_tls_requests(monkeypatch) -> None:
    """moto evaluates a bucket policy's statements without their conditions, so the TLS-only
    statement (Deny s3:* where aws:SecureTransport is false) would refuse every request. boto3
    talks to AWS over TLS, where that statement never applies: evaluate policies as for a TLS
    request, by leaving out the statements conditioned on a request without TLS."""
    import json

    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3.models import FakeBucket

    def without_tls(statement: dict) -> bool:
        return (statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport")
                == "false")

    def get_permission(bucket, action: str, resource: str):
        if bucket.policy is None:
            return PermissionResult.NEUTRAL
        policy = json.loads(bucket.policy)
        statements = [s for s in policy.get("Statement", []) if not without_tls(s)]
        if not statements:
            return PermissionResult.NEUTRAL
        return IAMPolicy(json.dumps({**policy, "Statement": statements})).is_action_permitted(
            action, resource)

    monkeypatch.setattr(FakeBucket, "get_permission", get_permission)
