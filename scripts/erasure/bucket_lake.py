"""The erasure tool's view of a deployed lake: its bucket, its workflow, Athena and the key.

``python -m scripts.forget --bucket B`` edits the landing objects from the operator's machine
through boto3, then starts the deployed workflow, which rebuilds the quarantine and every zone,
and proves the result with Athena queries. Not a Glue job: the email would then be a job
argument, which Glue keeps in the job run's history (GetJobRun returns it) and may write to
its logs, both of which outlive the erasure; and removing whole lines while every other byte
stays is plain Python on each object, where Spark's text writer would rewrite and rename the
files. Each object is replaced by one PUT, which S3 makes visible whole or not at all. Every S3
call expects the caller's account as the bucket's owner, and every Athena query runs in the
lake's own workgroup (scripts/aws/clients.py, scripts/aws/athena.py).
"""

from __future__ import annotations

import json

from scripts.aws import athena, s3, ssm
from scripts.aws.clients import AwsClients, AwsTarget
from scripts.aws.deploy_config import DeployConfig
from scripts.aws.workflow import run_workflow
from scripts.erasure import landing_records
from scripts.lake import pipeline


class BucketLake:
    """A lake deployed by scripts/deploy.py, for scripts/forget.py."""

    def __init__(self, aws: AwsClients, bucket: str, database: str) -> None:
        self.aws, self.bucket, self.database = aws, bucket, database
        self.description = f"s3://{bucket}"
        self.proof_hint = f"in Athena, database {database}"

    @classmethod
    def connect(cls, bucket: str, database: str, region: str | None, profile: str | None,
                endpoint_url: str | None) -> BucketLake:
        aws = AwsClients(AwsTarget(region=region, endpoint_url=endpoint_url, profile=profile))
        with aws.doing("reading the caller's AWS account"):
            aws.account()  # every S3 call from now on expects this owner of the bucket
        with aws.doing(f"finding bucket {bucket}"):
            aws("s3").head_bucket(Bucket=bucket)
        return cls(aws, bucket, database)

    def landing_files(self, source: str) -> list[str]:
        """The landing objects the jobs read (landing_records.is_listed)."""
        prefix = f"{pipeline.landing_table(source).path}/"
        with self.aws.doing(f"listing s3://{self.bucket}/{prefix}"):
            keys = list(s3.object_keys(self.aws("s3"), self.bucket, prefix))
        return sorted(key for key in keys if not key.endswith("/")
                      and landing_records.is_listed(key.removeprefix(prefix)))

    def read(self, key: str) -> bytes:
        with self.aws.doing(f"reading s3://{self.bucket}/{key}"):
            return self.aws("s3").get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def replace(self, key: str, data: bytes) -> None:
        with self.aws.doing(f"writing s3://{self.bucket}/{key}"):
            self.aws("s3").put_object(Bucket=self.bucket, Key=key, Body=data)

    def read_json(self, key: str) -> dict | None:
        with self.aws.doing(f"reading s3://{self.bucket}/{key}"):
            return s3.read_json(self.aws("s3"), self.bucket, key)

    def write_json(self, key: str, value: dict) -> None:
        self.replace(key, (json.dumps(value, indent=2) + "\n").encode())

    def delete(self, key: str) -> None:
        with self.aws.doing(f"deleting s3://{self.bucket}/{key}"):
            self.aws("s3").delete_object(Bucket=self.bucket, Key=key)

    def count_rows(self, sql: str) -> int:
        with self.aws.doing("counting rows in Athena"):
            value = athena.scalar(self.aws("athena"), sql, self.database, self.bucket)
        return int(value or 0)

    def zone_counts(self) -> dict[str, int]:
        """The rows of the tables the jobs write; not the landing tables, whose counts would
        make Athena scan every landing file twice for numbers forget does not show."""
        return {t.name: self.count_rows(f"select count(*) from {t.name}")
                for t in pipeline.output_tables()}

    def run_jobs(self) -> dict[str, int]:
        """The deployed workflow, followed job by job, with the options deploy gave the jobs."""
        run_workflow(self.aws, DeployConfig(self.bucket, self.database))
        return self.zone_counts()

    def device_key(self) -> bytes:
        name = ssm.device_key_parameter(self.database)
        with self.aws.doing(f"reading the device-id key {name}"):
            return ssm.read_device_key(self.aws("ssm"), name)

    def files_mentioning(self, values: list[str]) -> None:
        """Not looked for: the Athena proof reads every table of the bucket."""
        return None

    def query_command(self, sql: str) -> str:
        return f"{sql};"
