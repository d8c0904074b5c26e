"""The one client factory: every boto3 client of the deploy and destroy tools is made here.

Clients honour ``--region``, ``--endpoint-url`` (a moto server, LocalStack, a VPC endpoint) and
the standard AWS environment and profile. They retry as AWS's SDKs do in botocore's standard
mode: throttling, transient server errors (500, 502, 503, 504), request timeouts and dropped
connections, with jittered exponential backoff. That lives in botocore, so paginators and
S3 uploads, which call the client underneath, retry too.

``AwsClients.doing`` names what a step is doing; an AWS error inside it becomes one line that
says which service refused which call, with what code, while doing what, and for AccessDenied
which permission was missing.

Every S3 call that takes ``ExpectedBucketOwner`` carries the account the tools run in
(``AwsClients.bucket_owner``), so that no request reads or writes a bucket of another account,
whatever its policy allows: S3 answers 403 instead. It is added in one place, a handler on the
S3 client, so that the calls boto3's transfer manager makes for an upload carry it too. The calls
whose request has no such parameter (CreateBucket, ListBuckets) go without it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    PartialCredentialsError,
)

from scripts.aws.errors import (
    AwsCallError,
    MissingCredentialsError,
    describe_client_error,
    one_line,
)

RETRY_ATTEMPTS = 10  # the first call and up to nine retries, about a minute of backoff at most
CLIENT_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": RETRY_ATTEMPTS},
                       connect_timeout=10, read_timeout=60)
# Tag of every resource that deploy creates outside the bucket (role, VPC endpoint, alerts topic
# and rule): destroy removes only what carries it, and deploy changes no role without it unless
# told to adopt it, and no topic or rule without it at all.
CREATED_BY_TAG = {"Key": "created-by", "Value": "stedi-deploy"}
# The S3 request parameter that makes S3 refuse (403) a bucket another account owns.
EXPECTED_BUCKET_OWNER = "ExpectedBucketOwner"
MISSING_CREDENTIALS = ("no AWS credentials found: run `aws configure` (or set AWS_PROFILE, or "
                       "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")


@dataclass(frozen=True)
class AwsTarget:
    """Where the clients talk to."""

    region: str | None = None
    endpoint_url: str | None = None
    profile: str | None = None


@dataclass
class AwsClients:
    """Lazily made clients for one target, shared by all steps of a run.

    ``last_call`` is the (service, operation) of the latest request any client made, recorded
    by botocore's events, so that an error can name the call that failed even inside a
    paginator or an upload.
    """

    target: AwsTarget
    session: boto3.Session = field(init=False)
    _clients: dict[str, Any] = field(default_factory=dict, init=False)
    on_new_client: Callable[[Any], None] | None = None
    last_call: tuple[str, str] = ("", "")
    # The account whose buckets the S3 calls may touch: set once the caller's account is known.
    bucket_owner: str | None = None

    def __post_init__(self) -> None:
        self.session = boto3.Session(profile_name=self.target.profile,
                                     region_name=self.target.region)

    @property
    def region(self) -> str:
        return self.session.region_name or "us-east-1"

    def __call__(self, service: str):
        if service not in self._clients:
            client = self.session.client(service, region_name=self.region,
                                         endpoint_url=self.target.endpoint_url,
                                         config=CLIENT_CONFIG)
            client.meta.events.register("before-call.*.*", self._record_call)
            if service == "s3":
                client.meta.events.register("provide-client-params.s3.*",
                                            self._expect_bucket_owner)
            if self.on_new_client:
                self.on_new_client(client)
            self._clients[service] = client
        return self._clients[service]

    def _record_call(self, model: Any, **_: Any) -> None:
        self.last_call = (model.service_model.service_name, model.name)

    def _expect_bucket_owner(self, params: dict, model: Any, **_: Any) -> None:
        """Add ExpectedBucketOwner to an S3 request that takes it (see the module's doc)."""
        if EXPECTED_BUCKET_OWNER not in model.input_shape.members:
            return  # CreateBucket, ListBuckets
        if self.bucket_owner is None:
            raise RuntimeError(f"S3 {model.name} before the account of the bucket is known: "
                               "set AwsClients.bucket_owner first")
        params.setdefault(EXPECTED_BUCKET_OWNER, self.bucket_owner)

    def account(self) -> str:
        """The caller's AWS account, which from now on must own every bucket S3 calls touch."""
        if self.bucket_owner is None:
            self.bucket_owner = self("sts").get_caller_identity()["Account"]
        return self.bucket_owner

    @contextmanager
    def doing(self, activity: str) -> Iterator[None]:
        """Run a step; an AWS error inside it becomes an AwsCallError of one line."""
        try:
            yield
        except (NoCredentialsError, PartialCredentialsError) as error:
            raise MissingCredentialsError(MISSING_CREDENTIALS) from error
        except ClientError as error:
            raise AwsCallError(describe_client_error(error, activity, self.last_call)) from error
        except BotoCoreError as error:  # a connection that failed after every retry, say
            service, operation = self.last_call
            raise AwsCallError(f"AWS {service} {operation} failed while {activity}: "
                               f"{one_line(str(error))}") from error


def error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")
