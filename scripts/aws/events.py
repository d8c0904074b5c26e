"""EventBridge: the rule that sends a failed run of the lake's jobs to the alerts topic.

The rule matches two kinds of event on the account's default event bus, each with the pattern
AWS documents for it, joined by ``$or``:

- Glue's "Glue Job State Change" (source aws.glue) of one of the five jobs, in a state that
  means the run did not do its work: FAILED, TIMEOUT, or ERROR;
- Glue Data Quality's "Data Quality Evaluation Results Available" (source
  aws.glue-dataquality) of an evaluation inside one of the five jobs (context GLUE_JOB, the
  job's name in context.jobName) whose ruleset failed.

The whole event is the message: no input transformer. The two kinds carry different fields
(a job's ``message``, an evaluation's ``score`` and rule counts), and a transformer's template
names the fields it keeps; the event as EventBridge sends it keeps them all, the job's name and
run id included, at the cost of an email that is JSON.

Tagged like everything deploy creates outside the bucket; deploy changes, and destroy deletes,
no rule of this name without the tag.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from scripts.aws.clients import CREATED_BY_TAG
from scripts.aws.errors import ForeignResourceError, TargetRefusedError

GLUE_SOURCE = "aws.glue"
JOB_STATE_CHANGE = "Glue Job State Change"
# AWS's Glue developer guide ("Automating AWS Glue with EventBridge") says Glue Job State
# Change events are generated for SUCCEEDED, FAILED, TIMEOUT and STOPPED. ERROR is a job run
# state of the API (GetJobRun: "a workflow, schedule trigger, or event trigger attempted to run
# a deleted job", AWS Glue job run statuses) that no page lists among the events' states; it is
# matched anyway, as the issue asks: should Glue ever send it, it is a run that did not do its
# work, and a value no event carries costs nothing. STOPPED is left out: a person stopped the
# run (console, API), and knows.
JOB_FAILURE_STATES = ("FAILED", "TIMEOUT", "ERROR")
DATA_QUALITY_SOURCE = "aws.glue-dataquality"
DATA_QUALITY_RESULTS = "Data Quality Evaluation Results Available"
# An evaluation inside an ETL job; GLUE_DATA_CATALOG is a ruleset run on a catalog table.
DATA_QUALITY_IN_A_JOB = "GLUE_JOB"
DATA_QUALITY_FAILED = "FAILED"
# The Id of the rule's one target of deploy's; targets someone else added are kept.
ALERTS_TARGET_ID = "lakehouse-alerts-topic"


def failures_rule_name(database: str) -> str:
    """The lake's rule, one per lake database (named as its Glue workflow)."""
    return f"{database}-lakehouse-failures"


def rule_arn(region: str, account: str, name: str) -> str:
    """A rule on the account's default event bus."""
    return f"arn:aws:events:{region}:{account}:rule/{name}"


def failure_event_pattern(job_names: Iterable[str]) -> dict:
    """The rule's pattern: either branch is the pattern AWS documents for its event (Glue's
    developer guide: "Setting up alerts, deployments, and scheduling" for the data-quality one,
    whose context.jobName restricts it to these jobs), narrowed to the five jobs."""
    jobs = list(job_names)
    return {"$or": [
        {"source": [GLUE_SOURCE], "detail-type": [JOB_STATE_CHANGE],
         "detail": {"jobName": jobs, "state": list(JOB_FAILURE_STATES)}},
        {"source": [DATA_QUALITY_SOURCE], "detail-type": [DATA_QUALITY_RESULTS],
         "detail": {"context": {"contextType": [DATA_QUALITY_IN_A_JOB], "jobName": jobs},
                    "state": [DATA_QUALITY_FAILED]}},
    ]}


def alerts_target(topic: str) -> dict:
    """The topic as the rule's target. No RoleArn: EventBridge publishes to SNS under the
    topic's resource policy (scripts/aws/sns.py)."""
    return {"Id": ALERTS_TARGET_ID, "Arn": topic}


def rule_definition(name: str, pattern: dict, description: str) -> dict:
    """The rule as PutRule takes it (on the default event bus, enabled)."""
    return {"Name": name, "EventPattern": json.dumps(pattern), "State": "ENABLED",
            "Description": description}


def rule_is_current(existing: dict, definition: dict) -> bool:
    """Patterns are compared as JSON, not as text: EventBridge need not keep the spacing."""
    return (json.loads(existing.get("EventPattern") or "null")
            == json.loads(definition["EventPattern"])
            and existing.get("State") == definition["State"]
            and existing.get("Description") == definition["Description"])


def ensure_rule(events, definition: dict, arn: str) -> str:
    """Create the rule, or put the definition back on the rule deploy created where it
    differs (a changed pattern, a disabled rule); returns "created", "updated" or
    "unchanged". The tag goes with every PutRule, so a rule deploy rewrites keeps it."""
    name = definition["Name"]
    try:
        existing = events.describe_rule(Name=name)
    except events.exceptions.ResourceNotFoundException:
        events.put_rule(**definition, Tags=[CREATED_BY_TAG])
        return "created"
    if CREATED_BY_TAG not in events.list_tags_for_resource(ResourceARN=arn)["Tags"]:
        raise ForeignResourceError(
            f"EventBridge rule {name} exists and was not created by deploy: delete it, or "
            "choose another --database")
    if rule_is_current(existing, definition):
        return "unchanged"
    events.put_rule(**definition, Tags=[CREATED_BY_TAG])
    return "updated"


def refused(answer: dict, action: str, rule: str) -> None:
    """PutTargets and RemoveTargets answer 200 with the entries they refused: one line for the
    first."""
    if answer.get("FailedEntryCount"):
        entry = answer.get("FailedEntries", [{}])[0]
        raise TargetRefusedError(
            f"EventBridge refused to {action} target {entry.get('TargetId', '?')} of rule "
            f"{rule}: {entry.get('ErrorCode', 'no code')}: "
            f"{entry.get('ErrorMessage', 'no message')}")


def rule_targets(events, rule: str) -> list[dict]:
    """The rule's targets. One page: a rule has at most five targets, and a page holds up to
    100 (ListTargetsByRule's Limit)."""
    return events.list_targets_by_rule(Rule=rule).get("Targets", [])


def ensure_target(events, rule: str, target: dict) -> str:
    """Point the rule at ``target`` unless it does so already; returns "created", "updated"
    or "unchanged". PutTargets replaces the target of the same Id."""
    current = next((t for t in rule_targets(events, rule) if t.get("Id") == target["Id"]), None)
    if current == target:
        return "unchanged"
    refused(events.put_targets(Rule=rule, Targets=[target]), "add", rule)
    return "created" if current is None else "updated"


def delete_created_rule(events, name: str, arn: str) -> bool:
    """Delete the rule if deploy created it (tagged); False if absent or not deploy's.
    EventBridge refuses to delete a rule that has targets, so every target goes first, those
    someone else added too: they cannot outlive the rule."""
    try:
        tags = events.list_tags_for_resource(ResourceARN=arn)["Tags"]
    except events.exceptions.ResourceNotFoundException:
        return False
    if CREATED_BY_TAG not in tags:
        return False
    ids = [target["Id"] for target in rule_targets(events, name)]
    if ids:
        refused(events.remove_targets(Rule=name, Ids=ids), "remove", name)
    events.delete_rule(Name=name)
    return True
