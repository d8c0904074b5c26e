"""S3: the lake bucket (private, encrypted, TLS only, scratch prefixes expiring) and uploads
that skip unchanged files."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from botocore.exceptions import ClientError

from scripts.aws.clients import error_code
from scripts.aws.errors import BucketInOtherRegionError, BucketOwnedByOtherAccountError

# Stored with every uploaded file, so that a re-deploy can tell unchanged files without trusting
# ETags (a multipart upload's ETag is not the file's MD5).
CHECKSUM_KEY = "sha256"
BLOCK_ALL_PUBLIC_ACCESS = {"BlockPublicAcls": True, "IgnorePublicAcls": True,
                           "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
# What S3 answers for an object that is not there (HEAD answers a bare 404).
MISSING_OBJECT = ("404", "NoSuchKey", "NotFound")
DEFAULT_ENCRYPTION = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                                 "BucketKeyEnabled": True}]}


def bucket_state(s3, bucket: str, account: str) -> tuple[str, str | None]:
    """('yours', its region), ('absent', None) or ('foreign', None): a bucket of another
    account, or one these credentials may not use.

    HeadBucket with ExpectedBucketOwner: S3 answers 403 for a bucket of another account even
    where that account lets you read it. The bucket's region comes from S3's answer, because
    botocore follows a redirect to another region silently.
    """
    try:
        answer = s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=account)
    except ClientError as error:
        if error_code(error) in ("404", "NoSuchBucket", "NotFound"):
            return "absent", None
        if error_code(error) in ("403", "AccessDenied", "Forbidden"):
            return "foreign", None
        raise
    headers = answer.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    return "yours", answer.get("BucketRegion") or headers.get("x-amz-bucket-region")


def tls_only_policy(bucket: str) -> dict:
    """Refuse every request to the bucket that does not use TLS (Security Hub control S3.5)."""
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyRequestsWithoutTls", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}


def with_tls_only(existing: dict | None, bucket: str) -> dict:
    """The bucket's policy with the TLS-only statement in it; other statements are kept."""
    ours = tls_only_policy(bucket)["Statement"][0]
    policy = existing or {"Version": "2012-10-17", "Statement": []}
    others = [s for s in policy.get("Statement", []) if s.get("Sid") != ours["Sid"]]
    return {**policy, "Statement": [*others, ours]}


def expiry_rules(prefixes: dict[str, int]) -> list[dict]:
    """Lifecycle rules that delete what deploy's scratch prefixes hold after so many days, and
    incomplete multipart uploads anywhere after a week."""
    rules = [{"ID": f"stedi-expire-{prefix.strip('/')}", "Status": "Enabled",
              "Filter": {"Prefix": prefix}, "Expiration": {"Days": days}}
             for prefix, days in prefixes.items()]
    rules.append({"ID": "stedi-abort-incomplete-uploads", "Status": "Enabled",
                  "Filter": {"Prefix": ""},
                  "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}})
    return rules


# What GetBucketLifecycleConfiguration answers besides the rules that
# PutBucketLifecycleConfiguration takes back: the bucket's default minimum object size for
# transitions. A put without it would reset it to S3's default.
LIFECYCLE_SETTINGS_KEPT = ("TransitionDefaultMinimumObjectSize",)


def ensure_expiry(s3, bucket: str, prefixes: dict[str, int]) -> None:
    """Put deploy's lifecycle rules, keeping every rule of the bucket that is not deploy's and
    the configuration's other settings (PutBucketLifecycleConfiguration replaces the whole
    configuration)."""
    try:
        current = s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    except ClientError as error:
        if error_code(error) != "NoSuchLifecycleConfiguration":
            raise
        current = {"Rules": []}
    ours = expiry_rules(prefixes)
    kept = [rule for rule in current["Rules"] if not rule.get("ID", "").startswith("stedi-")]
    settings = {key: current[key] for key in LIFECYCLE_SETTINGS_KEPT if key in current}
    s3.put_bucket_lifecycle_configuration(Bucket=bucket,
                                          LifecycleConfiguration={"Rules": kept + ours},
                                          **settings)


def ensure_tls_only(s3, bucket: str) -> None:
    try:
        existing = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    except ClientError as error:
        if error_code(error) != "NoSuchBucketPolicy":
            raise
        existing = None
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(with_tls_only(existing, bucket)))


def ensure_bucket(s3, bucket: str, region: str, account: str,
                  expiring_prefixes: dict[str, int]) -> bool:
    """Create the bucket if absent, then make it private, encrypted and TLS-only, with deploy's
    scratch prefixes expiring. True if created."""
    state, bucket_region = bucket_state(s3, bucket, account)
    if state == "foreign":
        raise BucketOwnedByOtherAccountError(
            f"bucket {bucket} belongs to another AWS account (or your credentials may not use "
            "it): choose another --bucket name")
    if state == "yours" and bucket_region and bucket_region != region:
        raise BucketInOtherRegionError(
            f"bucket {bucket} is in {bucket_region}, not {region}: pass --region "
            f"{bucket_region}, or choose another --bucket name")
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
    ensure_tls_only(s3, bucket)
    ensure_expiry(s3, bucket, expiring_prefixes)
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
