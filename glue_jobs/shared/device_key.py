"""The key of the pseudonymous device ids, read from where it lives outside the data.

The job argument --device_key says where the key is, never what it is:

- ``ssm:<parameter ARN>``: an SSM Parameter Store SecureString that the job's role may read
  (deploy makes it; docs/glue-studio.md, "The device-id key" makes it with two CloudShell
  commands);
- ``s3://<bucket>/<object>``: an S3 object, for accounts where SSM is not allowed. Whoever may
  read that object may read the key and re-identify devices (docs/glue-studio.md, "The
  device-id key");
- ``file:<path>``: locally, a file readable by its owner only.

Every way the key cannot be had is a DeviceKeyError whose message is one line that names the
fix: Glue shows it as the job run's error message, the local commands print it.

Python's standard library only, besides boto3 where the key lives in AWS: the tools of
scripts/ import this module too (the erasure tool hashes with the same key), without Spark.
"""

import hashlib
import hmac
import os
import stat


class DeviceKeyError(RuntimeError):
    """The pseudonymisation key is missing, unreadable, too open or not a key."""


KEY_BYTES = 32  # HMAC-SHA256's block is 64 bytes; 32 random bytes are its full strength
# Where a person is told how to make the key and let the job read it.
HOW_TO = 'docs/glue-studio.md, "The device-id key"'
LOCATORS = "ssm:<parameter ARN>, s3://<bucket>/<object> or file:<path>"
# A key object is 64 hex digits and a line end: a far larger one is not read whole.
MOST_KEY_BYTES = 4096


def device_key_argument(argv: list[str]) -> str:
    """The value of --device_key among Glue's ``sys.argv`` (name and value are two items, as
    Glue passes them), refused with the fix when it is not there."""
    for position, item in enumerate(argv[:-1]):
        if item == "--device_key":
            return argv[position + 1]
    raise DeviceKeyError(
        "--device_key is missing: add the job parameter --device_key ssm:<parameter ARN> (or "
        "s3://<bucket>/<object>; locally file:<path>, which python -m scripts.local_key "
        f"prints); {HOW_TO} shows how to make the key")


def parse_device_key(text: str, where: str) -> bytes:
    """The key from its stored form, hexadecimal text; never echoes the text in an error."""
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        key = b""
    if len(key) < KEY_BYTES:
        raise DeviceKeyError(f"{where} does not hold a key of {KEY_BYTES} bytes in hexadecimal: "
                             f"put one there, made with openssl rand -hex {KEY_BYTES} ({HOW_TO})")
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
    except FileNotFoundError:
        raise DeviceKeyError(f"device key file {path} does not exist: make it with "
                             f"python -m scripts.local_key --file {path}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise DeviceKeyError(f"cannot read device key file {path}: {error}") from None


def aws_errors() -> tuple[type[Exception], ...]:
    """botocore's errors, imported only when a read in AWS failed (boto3 brings botocore)."""
    from botocore.exceptions import BotoCoreError, ClientError

    return BotoCoreError, ClientError


def aws_error(error: Exception) -> tuple[str, str]:
    """(code, message) of a botocore error: AWS's error code, or the class name of an error
    raised before AWS answered (no credentials, no connection)."""
    response = getattr(error, "response", None) or {}
    details = response.get("Error", {})
    code = str(details.get("Code") or type(error).__name__)
    return code, str(details.get("Message") or error).splitlines()[0][:300]


def aws_failure(what: str, permission: str, error: Exception) -> DeviceKeyError:
    """A failed read of the key in AWS, with the fix for the usual causes."""
    code, message = aws_error(error)
    if code in ("AccessDenied", "AccessDeniedException", "403", "Forbidden"):
        fix = f"the job's role needs {permission} on it ({HOW_TO}); AWS says: {message}"
    elif code in ("NoCredentialsError", "PartialCredentialsError"):
        fix = "no AWS credentials here: run the job in Glue, whose role reads it"
    else:
        fix = f"{code}: {message}"
    return DeviceKeyError(f"cannot read the device-id key {what}: {fix}")


def read_ssm_key(parameter_arn: str, client=None) -> bytes:
    """A SecureString parameter of Systems Manager, named by its ARN, read with the job's role.

    The ARN carries the region, which a Glue job's environment may not. boto3 is one of the
    modules Glue provides every Python job; it is imported here only, so the local runtime,
    which reads key files, never needs it. ``client``: an SSM client to use instead.
    """
    parts = parameter_arn.split(":", 5)
    if (len(parts) != 6 or parts[0] != "arn" or parts[2] != "ssm"
            or not parts[5].startswith("parameter/")):
        raise DeviceKeyError(f"not the ARN of an SSM parameter: {parameter_arn!r}; pass "
                             "ssm:arn:aws:ssm:<region>:<account>:parameter/<name> "
                             f"({HOW_TO})")
    name = parts[5].removeprefix("parameter")  # a name starting with "/" keeps its one "/"
    try:
        if client is None:
            import boto3

            client = boto3.client("ssm", region_name=parts[3])
        response = client.get_parameter(Name=name, WithDecryption=True)
    except aws_errors() as error:
        if aws_error(error)[0] == "ParameterNotFound":
            raise DeviceKeyError(
                f"SSM parameter {name} does not exist in region {parts[3]} of account "
                f"{parts[4]}: make it with aws ssm put-parameter ({HOW_TO})") from None
        raise aws_failure(f"SSM parameter {parameter_arn}", "ssm:GetParameter",
                          error) from None
    return parse_device_key(response["Parameter"]["Value"], f"SSM parameter {name}")


def read_s3_key(url: str, client=None) -> bytes:
    """An S3 object holding the key, read with the job's role (boto3, on the driver).

    For accounts where SSM is not allowed. Anyone who may read the object (s3:GetObject on it,
    which broad read policies grant) may read the key. ``client``: an S3 client to use instead.
    """
    bucket, _, key = url.removeprefix("s3://").partition("/")
    if not bucket or not key or key.endswith("/"):
        raise DeviceKeyError(f"not the URL of an S3 object: {url!r}; pass "
                             f"s3://<bucket>/<object> ({HOW_TO})")
    try:
        if client is None:
            import boto3

            client = boto3.client("s3")
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
        stored = body.read(MOST_KEY_BYTES + 1)  # more than a key holds: not a key
    except aws_errors() as error:
        code = aws_error(error)[0]
        if code in ("NoSuchKey", "NoSuchBucket", "404"):
            missing = "bucket" if code == "NoSuchBucket" else "object"
            raise DeviceKeyError(f"device key {url} does not exist (no such {missing}): put "
                                 f"the key there ({HOW_TO})") from None
        raise aws_failure(url, "s3:GetObject (S3 denies a missing object too, to a role "
                               "that may not list the bucket)", error) from None
    try:
        text = stored.decode("ascii") if len(stored) <= MOST_KEY_BYTES else ""
    except UnicodeDecodeError:
        text = ""
    return parse_device_key(text, f"device key {url}")


def read_device_key(locator: str) -> bytes:
    """The key named by --device_key: "ssm:<parameter ARN>", "s3://<bucket>/<object>" or
    "file:<path>"."""
    if locator.startswith("s3://"):
        return read_s3_key(locator)
    scheme, _, where = locator.partition(":")
    readers = {"ssm": read_ssm_key, "file": read_key_file}
    if scheme in readers and where:
        return readers[scheme](where)
    try:
        looks_like_a_key = len(bytes.fromhex(locator.strip())) >= KEY_BYTES
    except ValueError:
        looks_like_a_key = False
    given = "the key itself: pass where it is, never the key" if looks_like_a_key else repr(locator)
    raise DeviceKeyError(f"--device_key must be {LOCATORS}, not {given} ({HOW_TO})")


def device_id(device_key: bytes, serial_number: str) -> str:
    """The pseudonymous id of one step trainer: HMAC-SHA256 of its serial number, in hex."""
    return hmac.new(device_key, serial_number.encode("utf-8"), hashlib.sha256).hexdigest()
