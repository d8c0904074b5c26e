"""A moto server that deploy can run against end to end (`make moto-server`), and the two
places where moto 5.2.5 falls short of AWS for it, mended. The tests use the same mends.

    python -m scripts.dev.moto_server [--port 5000]

moto imitates the AWS APIs in memory. Two of its gaps would stop a deploy: a started Glue
workflow never runs its jobs (deploy follows the run until every job has succeeded), and a
bucket policy is evaluated without its conditions (the TLS-only statement would refuse every
request). The workflow mend also keeps a workflow's MaxConcurrentRuns, which moto ignores.
Nothing here is used against AWS.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

from scripts.aws.glue import RUN_FINAL_STATES

MOTO_ACCOUNT = "123456789012"  # moto's default account
Patch = Callable[[Any, str, Any], None]


# --- Glue workflow runs: moto 5.2.5 records a workflow run but runs nothing ---------------------

def run_workflows_as_glue_does(patch: Patch = setattr, region: str = "us-east-1") -> None:
    """Make the in-process moto server run a started workflow as Glue does: the start trigger's
    jobs at once, then each conditional trigger once all its conditions hold, the job runs
    carrying --WORKFLOW_NAME and --WORKFLOW_RUN_ID; get_workflow_run answers with the run's
    graph (its jobs and their runs) and ends COMPLETED when nothing more can start. Job runs
    advance as moto's own do, each time the run is read with get_workflow_run (a listing with
    get_workflow_runs shows the runs as they stand, moving none), and a test that fails a job
    run (FakeJobRun.as_dict) stops the jobs after it, as on AWS. A workflow with
    MaxConcurrentRuns refuses a run beyond it with ConcurrentRunsExceededException, one of the
    two answers AWS documents (the other: a run that ends in ERROR at once)."""
    from moto.glue import exceptions, models

    def backend():
        return models.glue_backends[MOTO_ACCOUNT][region]

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

    def advance(run) -> None:
        fired = True
        while fired:  # moto's job runs end at once: the jobs they unblock start at once too
            for job_run in run.job_runs.values():
                job_run.advance()
            fired = fire_ready_triggers(run)
        if set(states(run).values()) <= RUN_FINAL_STATES:
            run.status = "COMPLETED"

    original_start = models.FakeWorkflow.start_run
    original_as_dict = models.FakeWorkflowRun.as_dict
    original_get_run = models.GlueBackend.get_workflow_run

    def start_run(workflow, properties):
        running = [r for r in workflow.runs.values() if r.status == "RUNNING"]
        if workflow.max_concurrent_runs and len(running) >= workflow.max_concurrent_runs:
            raise exceptions.ConcurrentRunsExceededException(
                f"Concurrent runs exceeded for workflow: {workflow.name}")
        run_id = original_start(workflow, properties)
        run = workflow.runs[run_id]
        run.job_runs, run.fired = {}, set()
        fire_ready_triggers(run)
        return run_id

    def get_workflow_run(glue, workflow_name, run_id):
        workflow = glue.workflows.get(workflow_name)
        run = workflow.runs.get(run_id) if workflow else None
        if run is not None and hasattr(run, "job_runs"):
            advance(run)
        return original_get_run(glue, workflow_name, run_id)  # moto's not-found errors

    def as_dict(run):
        answer = original_as_dict(run)
        if not hasattr(run, "job_runs"):
            return answer
        answer["Status"] = run.status
        answer["Graph"] = {"Nodes": [
            {"Type": "JOB", "Name": name, "JobDetails": {"JobRuns": [job_run.as_dict()]}}
            for name, job_run in run.job_runs.items()]}
        return answer

    patch(models.FakeWorkflow, "start_run", start_run)
    patch(models.GlueBackend, "get_workflow_run", get_workflow_run)
    patch(models.FakeWorkflowRun, "as_dict", as_dict)


# --- S3 bucket policies: moto 5.2.5 ignores their conditions --------------------------------------

def evaluate_bucket_policies_as_for_tls_requests(patch: Patch = setattr) -> None:
    """moto evaluates a bucket policy's statements without their conditions, so the TLS-only
    statement (Deny s3:* where aws:SecureTransport is false) would refuse every request. boto3
    talks to AWS over TLS, where that statement never applies: evaluate policies as for a TLS
    request, by leaving out the statements conditioned on a request without TLS."""
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

    patch(FakeBucket, "get_permission", get_permission)


def main(argv: list[str] | None = None) -> int:
    from moto.server import ThreadedMotoServer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--region", default="us-east-1",
                        help="the region whose Glue workflows run their jobs")
    args = parser.parse_args(argv)
    run_workflows_as_glue_does(region=args.region)
    evaluate_bucket_policies_as_for_tls_requests()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=args.port, verbose=False)
    server.start()
    print(f"moto server on http://127.0.0.1:{args.port} (Ctrl-C stops it)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
