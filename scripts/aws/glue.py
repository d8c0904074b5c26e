"""Glue: the catalog database, the jobs, the workflow with its triggers, and job runs."""

from __future__ import annotations

from collections.abc import Callable

from scripts.aws.errors import JobRunFailedError
from scripts.aws.waiting import wait_for

RUN_FINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "STOPPED", "TIMEOUT", "ERROR",
                              "EXPIRED"})
# What update_trigger may change; a trigger's type or workflow can only be set at creation.
TRIGGER_UPDATABLE = ("Description", "Schedule", "Actions", "Predicate", "EventBatchingCondition")


def contains(existing: object, desired: object) -> bool:
    """Whether AWS's description of a resource already says everything ``desired`` says (AWS
    adds fields of its own, such as CreatedOn, which are not differences)."""
    if isinstance(desired, dict):
        return isinstance(existing, dict) and all(
            key in existing and contains(existing[key], value) for key, value in desired.items())
    if isinstance(desired, list):
        return (isinstance(existing, list) and len(existing) == len(desired)
                and all(contains(e, d) for e, d in zip(existing, desired)))
    return existing == desired


def job_is_current(existing: dict, definition: dict) -> bool:
    # Arguments are compared exactly: a default argument dropped from the definition must go.
    return (contains(existing, definition)
            and existing.get("DefaultArguments") == definition.get("DefaultArguments"))


def ensure_database(glue, name: str, description: str) -> bool:
    """Create the catalog database if absent; True if created."""
    try:
        glue.get_database(Name=name)
        return False
    except glue.exceptions.EntityNotFoundException:
        glue.create_database(DatabaseInput={"Name": name, "Description": description})
        return True


def ensure_job(glue, name: str, definition: dict) -> str:
    """Create the job, or update it when it differs from ``definition``; returns what it did."""
    try:
        existing = glue.get_job(JobName=name)["Job"]
    except glue.exceptions.EntityNotFoundException:
        glue.create_job(Name=name, **definition)
        return "created"
    if job_is_current(existing, definition):
        return "unchanged"
    glue.update_job(JobName=name, JobUpdate=definition)
    return "updated"


def ensure_workflow(glue, name: str, description: str) -> bool:
    try:
        glue.get_workflow(Name=name)
        return False
    except glue.exceptions.EntityNotFoundException:
        glue.create_workflow(Name=name, Description=description, MaxConcurrentRuns=1)
        return True


def ensure_trigger(glue, definition: dict) -> str:
    """Create, update or (when its type or workflow changed, which update_trigger cannot do)
    replace a trigger; returns what it did."""
    name = definition["Name"]
    try:
        existing = glue.get_trigger(Name=name)["Trigger"]
    except glue.exceptions.EntityNotFoundException:
        glue.create_trigger(**definition)
        return "created"
    if (existing.get("Type"), existing.get("WorkflowName")) != (definition["Type"],
                                                                 definition.get("WorkflowName")):
        glue.delete_trigger(Name=name)
        glue.create_trigger(**definition)
        return "replaced"
    update = {key: definition[key] for key in TRIGGER_UPDATABLE if key in definition}
    if contains(existing, update):
        return "unchanged"
    glue.update_trigger(Name=name, TriggerUpdate={"Name": name, **update})
    return "updated"


def start_job_run(glue, job_name: str, arguments: dict[str, str]) -> str:
    return glue.start_job_run(JobName=job_name, Arguments=arguments)["JobRunId"]


def wait_for_job_run(glue, job_name: str, run_id: str, timeout_seconds: float,
                     on_state: Callable[[str], None] = lambda state: None,
                     first_delay: float = 2.0) -> dict:
    """Wait for a run to end, reporting each new state; a run that did not succeed raises
    with Glue's error message and where its logs are."""
    last_state = [""]

    def poll() -> dict:
        run = glue.get_job_run(JobName=job_name, RunId=run_id)["JobRun"]
        if run["JobRunState"] != last_state[0]:
            last_state[0] = run["JobRunState"]
            on_state(run["JobRunState"])
        return run

    run = wait_for(poll, lambda r: r["JobRunState"] in RUN_FINAL_STATES,
                   what=f"Glue job {job_name} (run {run_id})", timeout_seconds=timeout_seconds,
                   first_delay=first_delay, max_delay=30.0)
    if run["JobRunState"] != "SUCCEEDED":
        log_group = run.get("LogGroupName", "/aws-glue/jobs")
        raise JobRunFailedError(
            f"Glue job {job_name} {run['JobRunState']}: "
            f"{run.get('ErrorMessage', 'no error message')} (logs: CloudWatch log group "
            f"{log_group}/error, stream {run_id})")
    return run


def delete_if_present(delete: Callable[..., object], not_found: type[Exception],
                      **name: str) -> bool:
    """Call a Glue delete operation; False when there was nothing to delete."""
    try:
        delete(**name)
        return True
    except not_found:
        return False
