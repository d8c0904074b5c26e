"""The one client factory: every boto3 client of the deploy and destroy tools is made here.

Clients honour ``--region``, ``--endpoint-url`` (a moto server, LocalStack, a VPC endpoint) and
the standard AWS environment and profile. botocore's own retries are switched off and every
operation goes through ``call_with_throttling_retry``: only throttling is retried, so any other
error surfaces at once with AWS's own message, and missing credentials become one clear error.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, NoCredentialsError, PartialCredentialsError

from scripts.aws.errors import MissingCredentialsError

THROTTLING_CODES = frozenset({"Throttling", "ThrottlingException", "ThrottledException",
                              "TooManyRequestsException", "RequestLimitExceeded",
                              "SlowDown", "RequestThrottled"})
NO_BOTOCORE_RETRIES = Config(retries={"total_max_attempts": 1}, connect_timeout=10,
                             read_timeout=60)
T = TypeVar("T")
# Tag of every resource that deploy creates outside the bucket (role, VPC endpoint): destroy
# removes only what carries it.
CREATED_BY_TAG = {"Key": "created-by", "Value": "stedi-deploy"}


@dataclass(frozen=True)
class AwsTarget:
    """Where the clients talk to."""

    region: str | None = None
    endpoint_url: str | None = None
    profile: str | None = None


@dataclass
class AwsClients:
    """Lazily made clients for one target, shared by all steps of a run."""

    target: AwsTarget
    session: boto3.Session = field(init=False)
    _clients: dict[str, Any] = field(default_factory=dict, init=False)
    on_new_client: Callable[[Any], None] | None = None

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
                                         config=NO_BOTOCORE_RETRIES)
            if self.on_new_client:
                self.on_new_client(client)
            self._clients[service] = ThrottlingRetryClient(client)
        return self._clients[service]


class ThrottlingRetryClient:
    """A boto3 client whose operations retry throttling (attributes such as ``exceptions``,
    ``meta`` and ``get_paginator`` pass through unchanged)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if name in self._client.meta.method_to_api_mapping:
            return lambda *args, **kwargs: call_with_throttling_retry(attribute, *args, **kwargs)
        return attribute


def error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def call_with_throttling_retry(operation: Callable[..., T], *args: Any, attempts: int = 6,
                               **kwargs: Any) -> T:
    """Call a boto3 operation, retrying only throttling errors with jittered backoff."""
    for attempt in range(attempts):
        try:
            return operation(*args, **kwargs)
        except ClientError as error:
            if error_code(error) not in THROTTLING_CODES or attempt == attempts - 1:
                raise
            time.sleep(min(20.0, 0.5 * 2 ** attempt) * (0.5 + random.random() / 2))
        except (NoCredentialsError, PartialCredentialsError) as error:
            raise MissingCredentialsError(
                "no AWS credentials found: run `aws configure` (or set AWS_PROFILE, or "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)") from error
    raise AssertionError("unreachable")
