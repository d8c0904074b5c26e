"""The key of the pseudonymous device ids, read from where it lives outside the data.

Python's standard library only, besides boto3 where the key is an SSM parameter: the tools of
scripts/ import this module too (the erasure tool hashes with the same key), without Spark.
"""

import hashlib
import hmac
import os
import stat


class DeviceKeyError(RuntimeError):
    """The pseudonymisation key is missing, unreadable, too open or not a key."""


KEY_BYTES = 32  # HMAC-SHA256's block is 64 bytes; 32 random bytes are its full strength


def parse_device_key(text: str, where: str) -> bytes:
    """The key from its stored form, hexadecimal text; never echoes the text in an error."""
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        key = b""
    if len(key) < KEY_BYTES:
        raise DeviceKeyError(f"{where} does not hold a key of {KEY_BYTES} bytes in hexadecimal")
    return key


def read_key_file(path: str) -> bytes:
    """A local key file, refused when others may read it (as ssh refuses an open private key)."""
    try:
        mode = os.stat(path).st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise DeviceKeyError(f"device key file {path} is readable by others "
                                 f"(mode {stat.S_IMODE(mode):o}); chmod 600 it")
        with open(path, encoding="ascii") as key_file:
            return parse_device_key(key_file.read(), f"device key file {path}")
    except (OSError, UnicodeDecodeError) as error:
        raise DeviceKeyError(f"cannot read device key file {path}: {error}") from None


def read_ssm_key(parameter_arn: str) -> bytes:
    """A SecureString parameter of Systems Manager, named by its ARN, read with the job's role.

    The ARN carries the region, which a Glue job's environment may not. boto3 is one of the
    modules Glue provides every Python job; it is imported here only, so the local runtime,
    which reads key files, never needs it.
    """
    import boto3

    parts = parameter_arn.split(":", 5)
    if (len(parts) != 6 or parts[0] != "arn" or parts[2] != "ssm"
            or not parts[5].startswith("parameter/")):
        raise DeviceKeyError(f"not the ARN of an SSM parameter: {parameter_arn!r}")
    name = parts[5].removeprefix("parameter")  # a name starting with "/" keeps its one "/"
    response = boto3.client("ssm", region_name=parts[3]).get_parameter(Name=name,
                                                                       WithDecryption=True)
    return parse_device_key(response["Parameter"]["Value"], f"parameter {name}")


def read_device_key(locator: str) -> bytes:
    """The key named by --device_key: "ssm:<parameter ARN>" or "file:<path>"."""
    scheme, _, where = locator.partition(":")
    readers = {"ssm": read_ssm_key, "file": read_key_file}
    if scheme not in readers or not where:
        raise DeviceKeyError(f"--device_key must be ssm:<parameter ARN> or file:<path>, "
                             f"not {locator!r}")
    return readers[scheme](where)


def device_id(device_key: bytes, serial_number: str) -> str:
    """The pseudonymous id of one step trainer: HMAC-SHA256 of its serial number, in hex."""
    return hmac.new(device_key, serial_number.encode("utf-8"), hashlib.sha256).hexdigest()
