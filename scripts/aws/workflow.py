"""A run of the deployed Glue workflow, followed job by job: deploy's first run, and forget's
re-run of every job after it changed the landing objects (scripts/erasure/bucket_lake.py)."""

from __future__ import annotations

import time

from scripts.aws import glue
from scripts.aws.clients import AwsClients
from scripts.aws.deploy_config import JOB_TIMEOUT_MINUTES, DeployConfig
from scripts.lake import pipeline


def say(message: str) -> None:
    print(message, flush=True)


def run_workflow(aws: AwsClients, config: DeployConfig) -> dict[str, int]:
    """Start the workflow, the way its schedule or a console user starts it, and follow its
    job runs to the end; returns each run's execution time in seconds."""
    started = time.monotonic()
    jobs = [job.name for job in pipeline.dependency_order()]
    with aws.doing(f"starting Glue workflow {config.workflow_name}"):
        run_id, in_progress = glue.start_workflow_run(aws("glue"), config.workflow_name)
    if in_progress:
        say(f"  workflow {config.workflow_name} run {run_id} was already running (its schedule "
            "or someone else started it; one run at a time): following that run instead")
    else:
        say(f"  workflow {config.workflow_name} run {run_id} started")

    def report(job_name: str, state: str) -> None:
        say(f"  [{jobs.index(job_name) + 1}/{len(jobs)}] {job_name} {state} "
            f"({time.monotonic() - started:.0f} s)")

    timeout = len(jobs) * (JOB_TIMEOUT_MINUTES * 60 + 300)
    with aws.doing(f"following Glue workflow {config.workflow_name} run {run_id}"):
        runs = glue.follow_workflow_run(aws("glue"), config.workflow_name, run_id, jobs,
                                        timeout_seconds=timeout, on_state=report)
    say(f"✓ {len(jobs)} jobs succeeded")
    return {name: int(run.get("ExecutionTime", 0)) for name, run in runs.items()}
