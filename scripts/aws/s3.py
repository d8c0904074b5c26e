"""S3: the lake bucket (private, encrypted) and uploads that skip unchanged files."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from botocore.exceptions import ClientError

from scripts.aws.clients import error_code
from scripts.aws.errors import BucketOwnedByOtherAccountError

# Stored with every uploaded file, so that a re-deploy can tell unchanged files without trusting
# ETags (a multipart upload's ETag is not the file's MD5).
CHECKSUM_KEY = "sha256"
BLOCK_ALL_PUBLIC_ACCESS = {"BlockPublicAcls": True, "IgnorePublicAcls": True,
                           "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
# What S3 answers for an object that is not there (HEAD answers a bare 404).
MISSING_OBJECT = ("404", "NoSuchKey", "NotFound")
DEFAULT_ENCRYPTION = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                                 "BucketKeyEnabled": True}]}


def bucket_state(s3, bucket: str) -> str:
    """'yours', 'absent' or 'foreign' (exists in another account, or you may not use it)."""
    try:
        s3.head_bucket(Bucket=bucket)
        return "yours"
    except ClientError as error:
        if error_code(error) in ("404", "NoSuchBucket", "NotFound"):
            return "absent"
        if error_code(error) in ("403", "AccessDenied", "Forbidden"):
            return "foreign"
        raise


def ensure_bucket(s3, bucket: str, region: str) -> bool:
    """Create the bucket if absent, then make it private and encrypted. True if created."""
    state = bucket_state(s3, bucket)
    if state == "foreign":
        raise BucketOwnedByOtherAccountError(
            f"bucket {bucket} belongs to another AWS account (or your credentials may not use "
            "it): choose another --bucket name")
    created = state == "absent"
    if created:
        location = {} if region == "us-east-1" else {
            "CreateBucketConfiguration": {"LocationConstraint": region}}
        try:
            s3.create_bucket(Bucket=bucket, **location)
        except s3.exceptions.BucketAlreadyExists as error:
            raise BucketOwnedByOtherAccountError(
                f"bucket {bucket} was just taken by another AWS account: choose another "
                "--bucket name") from error
    s3.put_public_access_block(Bucket=bucket,
                               PublicAccessBlockConfiguration=BLOCK_ALL_PUBLIC_ACCESS)
    s3.put_bucket_encryption(Bucket=bucket,
                             ServerSideEncryptionConfiguration=DEFAULT_ENCRYPTION)
    return created


def file_checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def stored_checksum(s3, bucket: str, key: str) -> str | None:
    try:
        return s3.head_object(Bucket=bucket, Key=key).get("Metadata", {}).get(CHECKSUM_KEY)
    except ClientError as error:
        if error_code(error) in MISSING_OBJECT:
            return None
        raise


def read_json(s3, bucket: str, key: str) -> dict | None:
    """The JSON document stored at ``key``, or None where there is none."""
    try:
        return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except ClientError as error:
        if error_code(error) in MISSING_OBJECT:
            return None
        raise


@dataclass(frozen=True)
class Upload:
    path: Path
    key: str
    size: int
    uploaded: bool  # False: the same content was already there


def upload_if_changed(s3, path: Path, bucket: str, key: str) -> Upload:
    checksum = file_checksum(path)
    changed = stored_checksum(s3, bucket, key) != checksum
    if changed:
        s3.upload_file(str(path), bucket, key, ExtraArgs={"Metadata": {CHECKSUM_KEY: checksum}})
    return Upload(path, key, path.stat().st_size, changed)


def object_keys(s3, bucket: str, prefix: str = "") -> Iterator[str]:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            yield item["Key"]


def delete_prefix(s3, bucket: str, prefix: str) -> int:
    """Delete every object under ``prefix`` (all of the bucket for ''); returns how many."""
    keys = list(object_keys(s3, bucket, prefix))
    for start in range(0, len(keys), 1000):
        batch = [{"Key": key} for key in keys[start:start + 1000]]
        s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
    return len(keys)


def delete_bucket(s3, bucket: str) -> bool:
    """Delete the (emptied) bucket; False if it did not exist."""
    try:
        s3.delete_bucket(Bucket=bucket)
        return True
    except ClientError as error:
        if error_code(error) == "NoSuchBucket":
            return False
        raise
