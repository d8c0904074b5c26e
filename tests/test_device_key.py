"""The device-id key read where it lives in AWS: an SSM SecureString, or an S3 object where SSM
is not allowed. The reads run against a real moto server on loopback, through boto3 as in a
Glue job (its endpoint from AWS_ENDPOINT_URL); what moto cannot answer (SSM's AccessDenied)
through botocore's Stubber. Every failure is one line naming the fix."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber

from glue_jobs.shared import device_key
from glue_jobs.shared.device_key import DeviceKeyError, read_device_key
from tests.moto_server import ACCOUNT, REGION, TEST_CREDENTIALS

KEY = bytes(range(32))
NAME = "/stedi-lakehouse/stedi/device-id-key"  # deploy's name (scripts/aws/ssm.py)
ARN = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{NAME}"
BUCKET = "stedi-keys"
HOW_TO = '(docs/glue-studio.md, "The device-id key")'


@pytest.fixture
def aws(moto, monkeypatch):
    """A clean moto account, and boto3 as a Glue job's driver has it: credentials and region
    in the environment (here the test ones), nothing from files; its endpoint the server."""
    moto.reset()
    for name, value in {**TEST_CREDENTIALS, "AWS_DEFAULT_REGION": REGION,
                        "AWS_ENDPOINT_URL": moto.url, "AWS_CONFIG_FILE": "/nonexistent",
                        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
                        "AWS_EC2_METADATA_DISABLED": "true"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # no session of an earlier test
    return moto


def one_line_refusal(locator: str) -> str:
    with pytest.raises(DeviceKeyError) as raised:
        read_device_key(locator)
    message = str(raised.value)
    assert "\n" not in message
    return message


# --- SSM -------------------------------------------------------------------------------------

def test_the_key_is_read_from_its_securestring_by_arn(aws):
    aws.client("ssm").put_parameter(Name=NAME, Type="SecureString", Value=KEY.hex())
    assert aws.client("ssm").get_parameter(Name=NAME)["Parameter"]["ARN"] == ARN
    assert read_device_key(f"ssm:{ARN}") == KEY


def test_a_parameter_that_does_not_exist_names_the_command_that_makes_it(aws):
    assert one_line_refusal(f"ssm:{ARN}") == (
        f"SSM parameter {NAME} does not exist in region {REGION} of account {ACCOUNT}: make it "
        f"with aws ssm put-parameter {HOW_TO}")


def test_a_parameter_that_holds_no_key_is_refused_without_echoing_it(aws):
    aws.client("ssm").put_parameter(Name=NAME, Type="SecureString", Value="00" * 16)
    assert one_line_refusal(f"ssm:{ARN}") == (
        f"SSM parameter {NAME} does not hold a key of 32 bytes in hexadecimal: put one there, "
        f"made with openssl rand -hex 32 {HOW_TO}")


def test_a_role_that_may_not_read_the_parameter_is_told_the_permission(aws):
    ssm = aws.client("ssm")
    denial = (f"User: arn:aws:sts::{ACCOUNT}:assumed-role/AWSGlueServiceRole-stedi/GlueJobRunner"
              f" is not authorized to perform: ssm:GetParameter on resource: {ARN}")
    with Stubber(ssm) as stubber:
        stubber.add_client_error("get_parameter", service_error_code="AccessDeniedException",
                                 service_message=denial, http_status_code=400,
                                 expected_params={"Name": NAME, "WithDecryption": True})
        with pytest.raises(DeviceKeyError) as raised:
            device_key.read_ssm_key(ARN, client=ssm)
    assert str(raised.value) == (
        f"cannot read the device-id key SSM parameter {ARN}: the job's role needs "
        f"ssm:GetParameter on it {HOW_TO}; AWS says: {denial}")


def test_without_aws_credentials_the_refusal_says_so(aws, monkeypatch):
    for name in TEST_CREDENTIALS:
        monkeypatch.delenv(name)
    assert one_line_refusal(f"ssm:{ARN}") == (
        f"cannot read the device-id key SSM parameter {ARN}: no AWS credentials here: run the "
        "job in Glue, whose role reads it")


# --- S3, where SSM is not allowed --------------------------------------------------------------

@pytest.fixture
def key_bucket(aws):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    return s3


def test_the_key_is_read_from_an_s3_object(key_bucket):
    key_bucket.put_object(Bucket=BUCKET, Key="stedi/device-id.key",
                          Body=(KEY.hex() + "\n").encode())
    assert read_device_key(f"s3://{BUCKET}/stedi/device-id.key") == KEY


@pytest.mark.parametrize("url, missing", [(f"s3://{BUCKET}/stedi/device-id.key", "object"),
                                          ("s3://no-such-bucket/device-id.key", "bucket")])
def test_an_object_or_bucket_that_does_not_exist_is_named(key_bucket, url, missing):
    assert one_line_refusal(url) == (
        f"device key {url} does not exist (no such {missing}): put the key there {HOW_TO}")


@pytest.mark.parametrize("stored", [b"00" * 16, b"\xff" * 64, b"ab" * 4096])
def test_an_object_that_holds_no_key_is_refused(key_bucket, stored):
    key_bucket.put_object(Bucket=BUCKET, Key="device-id.key", Body=stored)
    url = f"s3://{BUCKET}/device-id.key"
    assert one_line_refusal(url) == (
        f"device key {url} does not hold a key of 32 bytes in hexadecimal: put one there, made "
        f"with openssl rand -hex 32 {HOW_TO}")


def test_an_object_the_role_may_not_read_names_the_permission(key_bucket):
    """A bucket policy that denies the read (moto evaluates bucket policies): AccessDenied."""
    key_bucket.put_object(Bucket=BUCKET, Key="device-id.key", Body=KEY.hex().encode())
    key_bucket.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
                       "Resource": f"arn:aws:s3:::{BUCKET}/device-id.key"}]}))
    url = f"s3://{BUCKET}/device-id.key"
    message = one_line_refusal(url)
    assert message.startswith(
        f"cannot read the device-id key {url}: the job's role needs s3:GetObject (S3 denies a "
        f"missing object too, to a role that may not list the bucket) on it {HOW_TO}; AWS says: ")
