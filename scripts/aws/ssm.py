"""The device-id key on AWS: an SSM Parameter Store SecureString that only the jobs' role reads.

machine_learning_curated names each step trainer by HMAC-SHA256(key, serialNumber). The key
must not live with the data (whoever holds data and key can recompute the id of a known serial
number), so deploy keeps it in Parameter Store: a SecureString, encrypted with the account's
AWS managed key aws/ssm, whose key policy lets any principal of the account decrypt through
SSM, so the role needs ``ssm:GetParameter`` on this one parameter and nothing more. Glue gets
the parameter's ARN as the job argument --device_key, never the key.

A standard parameter costs nothing; deploy writes it once and never again, so that a device
keeps its id from deploy to deploy. destroy deletes it only with --delete-data, with the data
whose ids it made.
"""

from __future__ import annotations

import secrets

from botocore.exceptions import ClientError

from glue_jobs.shared.device_key import KEY_BYTES, parse_device_key
from scripts.aws.clients import CREATED_BY_TAG, error_code


def device_key_parameter(database: str) -> str:
    """The parameter's name, one per lake database."""
    return f"/stedi-lakehouse/{database}/device-id-key"


def parameter_arn(region: str, account: str, name: str) -> str:
    """The ARN of a parameter whose name starts with "/": that "/" is the ARN's separator."""
    return f"arn:aws:ssm:{region}:{account}:parameter{name}"


def ensure_device_key(ssm, name: str) -> bool:
    """Create the parameter with a new random key unless it exists; whether it was created.
    An existing key is never read nor overwritten here."""
    try:
        ssm.put_parameter(Name=name, Value=secrets.token_hex(KEY_BYTES), Type="SecureString",
                          Overwrite=False, Tier="Standard", Tags=[CREATED_BY_TAG],
                          Description="Key of the STEDI lakehouse's pseudonymous device ids "
                                      "(HMAC-SHA256); read by the Glue jobs' role only")
    except ClientError as error:
        if error_code(error) == "ParameterAlreadyExists":
            return False
        raise
    return True


def read_device_key(ssm, name: str) -> bytes:
    """The key, for the erasure tool, which keys its records' hashes with it."""
    value = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    return parse_device_key(value, f"parameter {name}")


def delete_device_key(ssm, name: str) -> bool:
    """Delete the parameter; whether it was there."""
    try:
        ssm.delete_parameter(Name=name)
    except ClientError as error:
        if error_code(error) == "ParameterNotFound":
            return False
        raise
    return True
