"""Glue: the catalog database, the jobs, the workflow with its triggers, and job runs."""

from __future__ import annotations

import time
from collections.abc import Callable

from botocore.exceptions import ClientError

from scripts.aws.clients import error_code
from scripts.aws.errors import JobRunFailedError, WorkflowBusyError
from scripts.aws.waiting import wait_for

RUN_FINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "STOPPED", "TIMEOUT", "ERROR",
                              "EXPIRED"})
# A workflow run in one of these has nothing more to start.
WORKFLOW_FINAL_STATES = frozenset({"COMPLETED", "STOPPED", "ERROR"})
# What start_workflow_run answers when the workflow runs as often as MaxConcurrentRuns allows.
CONCURRENT_RUNS_EXCEEDED = "ConcurrentRunsExceededException"
# What create_trigger answers while a trigger of the same name is still being deleted.
TRIGGER_STILL_DELETING = frozenset({"AlreadyExistsException",
                                    "ConcurrentModificationException"})
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
        recreate_trigger(glue, definition)
        return "replaced"
    update = {key: definition[key] for key in TRIGGER_UPDATABLE if key in definition}
    if contains(existing, update):
        return "unchanged"
    glue.update_trigger(Name=name, TriggerUpdate={"Name": name, **update})
    return "updated"


def recreate_trigger(glue, definition: dict, timeout_seconds: float = 120,
                     first_delay: float = 1.0, sleep: Callable[[float], None] = time.sleep
                     ) -> None:
    """Create a trigger whose namesake was just deleted. Glue deletes triggers asynchronously
    (the old one sits in DELETING for a while), and until it is gone create_trigger answers
    AlreadyExists or ConcurrentModification: wait for it to go, and retry those."""
    name = definition["Name"]

    def try_to_create() -> bool:
        try:
            glue.get_trigger(Name=name)
            return False  # the old one is still there, DELETING
        except glue.exceptions.EntityNotFoundException:
            pass
        try:
            glue.create_trigger(**definition)
            return True
        except glue.exceptions.ClientError as error:
            if error_code(error) not in TRIGGER_STILL_DELETING:
                raise
            return False

    wait_for(try_to_create, lambda created: created,
             what=f"re-creating Glue trigger {name} (its namesake still being deleted)",
             timeout_seconds=timeout_seconds, first_delay=first_delay, max_delay=10.0,
             sleep=sleep)


def log_streams_hint(run: dict) -> str:
    """Where a failed run's logs are: Glue 5.0 and later name each stream after the run id plus
    a suffix (<runId>-driver, ...)."""
    log_group = run.get("LogGroupName", "/aws-glue/jobs")
    return (f"logs: CloudWatch log group {log_group}/error, streams beginning with "
            f"{run.get('Id', 'the run id')}")


def started_on(job_run: dict) -> float:
    """When a job run started, in seconds (0 if it has not): botocore's datetimes carry their
    zone."""
    started = job_run.get("StartedOn")
    return started.timestamp() if started else 0.0


def job_runs_of(workflow_run: dict) -> dict[str, dict]:
    """The latest run of each job in a workflow run's graph (get_workflow_run IncludeGraph)."""
    runs = {}
    for node in workflow_run.get("Graph", {}).get("Nodes", []):
        if node.get("Type") == "JOB":
            job_runs = node.get("JobDetails", {}).get("JobRuns", [])
            if job_runs:
                runs[node["Name"]] = max(job_runs, key=started_on)
    return runs


def concurrent_runs_exceeded(run: dict) -> bool:
    """A run Glue refused to start because the workflow was already running as often as its
    MaxConcurrentRuns allows (WorkflowRun.ErrorMessage: "Concurrent runs exceeded for workflow:
    <name>.")."""
    return (run.get("Status") == "ERROR"
            and run.get("ErrorMessage", "").startswith("Concurrent runs exceeded"))


def run_in_progress(glue, workflow_name: str) -> str | None:
    """The latest run of the workflow that is still RUNNING, if any."""
    runs = glue.get_workflow_runs(Name=workflow_name, IncludeGraph=False).get("Runs", [])
    running = [run for run in runs if run.get("Status") == "RUNNING"]
    if not running:
        return None
    return max(running, key=lambda run: started_on(run))["WorkflowRunId"]


def start_workflow_run(glue, workflow_name: str, attempts: int = 3) -> tuple[str, bool]:
    """Start a run of the workflow; (run id, False). If the workflow is already running as often
    as its MaxConcurrentRuns allows (a scheduled run, or one started in the console), Glue
    refuses the new run, either with ConcurrentRunsExceededException or with a run that ends in
    ERROR at once: then the run in progress is the one to follow, (its id, True). A run in
    progress that ends between the refusal and the look-up means trying again."""
    for _ in range(attempts):
        try:
            run_id = glue.start_workflow_run(Name=workflow_name)["RunId"]
        except ClientError as error:
            if error_code(error) != CONCURRENT_RUNS_EXCEEDED:
                raise
        else:
            run = glue.get_workflow_run(Name=workflow_name, RunId=run_id,
                                        IncludeGraph=False)["Run"]
            if not concurrent_runs_exceeded(run):
                return run_id, False
        running = run_in_progress(glue, workflow_name)
        if running is not None:
            return running, True
    raise WorkflowBusyError(
        f"Glue workflow {workflow_name} refused {attempts} new runs as too many at once, yet "
        "shows no run in progress: see its runs in the Glue console")


def failed_job(job_runs: dict[str, dict]) -> tuple[str, dict] | None:
    for name, run in job_runs.items():
        if run.get("JobRunState") in RUN_FINAL_STATES - {"SUCCEEDED"}:
            return name, run
    return None


def follow_workflow_run(glue, workflow_name: str, run_id: str, job_names: list[str],
                        timeout_seconds: float,
                        on_state: Callable[[str, str], None] = lambda job, state: None,
                        first_delay: float = 5.0) -> dict[str, dict]:
    """Follow a workflow run until every job in ``job_names`` has succeeded, reporting each
    job's new states; returns the job runs by job name. The first job run that does not
    succeed raises with Glue's message and where its logs are: the jobs after it never start.
    """
    seen: dict[str, str] = {}

    def poll() -> dict:
        run = glue.get_workflow_run(Name=workflow_name, RunId=run_id, IncludeGraph=True)["Run"]
        for name, job_run in job_runs_of(run).items():
            if seen.get(name) != job_run.get("JobRunState"):
                seen[name] = job_run.get("JobRunState")
                on_state(name, seen[name])
        return run

    def finished(run: dict) -> bool:
        job_runs = job_runs_of(run)
        return (failed_job(job_runs) is not None
                or all(job_runs.get(n, {}).get("JobRunState") == "SUCCEEDED" for n in job_names)
                or run.get("Status") in WORKFLOW_FINAL_STATES)

    run = wait_for(poll, finished, what=f"Glue workflow {workflow_name} (run {run_id})",
                   timeout_seconds=timeout_seconds, first_delay=first_delay, max_delay=30.0)
    job_runs = job_runs_of(run)
    failure = failed_job(job_runs)
    if failure:
        name, job_run = failure
        raise JobRunFailedError(
            f"Glue job {name} {job_run['JobRunState']}: "
            f"{job_run.get('ErrorMessage', 'no error message')} ({log_streams_hint(job_run)})")
    never_ran = [n for n in job_names if job_runs.get(n, {}).get("JobRunState") != "SUCCEEDED"]
    if never_ran:
        reason = f" ({run['ErrorMessage']})" if run.get("ErrorMessage") else ""
        raise JobRunFailedError(
            f"Glue workflow {workflow_name} run {run_id} ended {run.get('Status')}{reason} "
            f"without running {', '.join(never_ran)}: see the workflow's run in the Glue console")
    return job_runs


def delete_if_present(delete: Callable[..., object], not_found: type[Exception],
                      **name: str) -> bool:
    """Call a Glue delete operation; False when there was nothing to delete."""
    try:
        delete(**name)
        return True
    except not_found:
        return False
