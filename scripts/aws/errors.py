"""The errors the deploy and destroy tools raise on purpose. Each message says what to do next;
the command line prints it as one line and exits with status 2."""


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
