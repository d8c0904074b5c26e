"""The errors the deploy and destroy tools raise on purpose. Each message says what to do next;
the command line prints it as one line and exits with status 2."""

from __future__ import annotations

import re

# How AWS words a refused permission: "... is not authorized to perform: iam:PassRole on ...".
REFUSED_ACTION = re.compile(r"perform:?\s+([A-Za-z0-9-]+:[A-Za-z0-9*]+)")
ACCESS_DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation",
                                 "UnauthorizedAccess", "403"})


class DeployError(Exception):
    """Base class: a problem the user can act on."""


class MissingCredentialsError(DeployError):
    """No AWS credentials were found."""


class InvalidNameError(DeployError):
    """A bucket, database or role name AWS would refuse."""


class BucketOwnedByOtherAccountError(DeployError):
    """The bucket name is taken by another AWS account."""


class RoleNotFoundError(DeployError):
    """The Glue service role does not exist and was not asked to be created."""


class VpcNotFoundError(DeployError):
    """The VPC or route table for the S3 gateway endpoint does not exist."""


class AthenaQueryFailedError(DeployError):
    """An Athena query ended FAILED or CANCELLED."""


class JobRunFailedError(DeployError):
    """A Glue job run ended in a state other than SUCCEEDED."""


class WaitTimeoutError(DeployError):
    """Something did not finish within its time limit."""


class AwsCallError(DeployError):
    """AWS refused a call, or could not be reached after every retry."""


class ForeignRoleError(DeployError):
    """The role exists but deploy did not create it, and adopting it was not asked for."""


class ForeignResourceError(DeployError):
    """An SNS topic or EventBridge rule of deploy's name exists but deploy did not create it."""


class TargetRefusedError(DeployError):
    """EventBridge refused to add or remove a rule's target (PutTargets and RemoveTargets
    report a refused entry in their answer, not as an error)."""


class BucketInOtherRegionError(DeployError):
    """The bucket exists in another region than the deploy's."""


class WorkflowBusyError(DeployError):
    """Glue refuses a new workflow run as too many at once but shows none in progress."""


def one_line(text: str) -> str:
    """Text with every run of whitespace, line breaks included, made one space."""
    return " ".join(text.split())


def describe_client_error(error, activity: str, last_call: tuple[str, str]) -> str:
    """One line for an AWS error: service, call, error code, what was being done, AWS's message,
    and for a refused permission the action to grant."""
    details = error.response.get("Error", {})
    code = details.get("Code", "") or "Unknown"
    message = one_line(str(details.get("Message", "") or error))
    service, operation = last_call
    operation = getattr(error, "operation_name", "") or operation
    line = f"AWS {service} {operation} {code} while {activity}: {message}"
    if code in ACCESS_DENIED_CODES:
        refused = REFUSED_ACTION.search(message)
        action = refused.group(1) if refused else f"{service}:{operation}"
        line += (f" (missing permission: {action}; `python -m scripts.deploy "
                 "--print-deployer-policy` prints every permission deploy needs)")
    return line
