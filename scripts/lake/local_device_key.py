"""The local home of the device-id key: a file outside the lake, readable by its owner only.

The machine_learning_curated job names each step trainer by HMAC-SHA256(key, serialNumber);
the erasure tool keys its records' hashes with the same key. Whoever holds the key can
recompute the id of a known serial number, so it lives apart from the data: by default in the
user's configuration folder (``$XDG_CONFIG_HOME/stedi/device-id.key``), never under a lake,
and ``STEDI_DEVICE_KEY_FILE`` or ``--device-key-file`` may put it elsewhere. On AWS it is an SSM
SecureString made by deploy (scripts/aws/ssm.py).

The first run makes the key; every later run reads the same one, so a device keeps its id.
Losing the file means new ids on the next run, nothing worse. ``python -m scripts.local_key``
makes it and prints where it is.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from glue_jobs.shared.device_key import KEY_BYTES, read_key_file

KEY_FILE_VARIABLE = "STEDI_DEVICE_KEY_FILE"


def default_key_file() -> Path:
    """``$STEDI_DEVICE_KEY_FILE``, else ``$XDG_CONFIG_HOME/stedi/device-id.key`` (by default
    ``~/.config/stedi/device-id.key``)."""
    if os.environ.get(KEY_FILE_VARIABLE):
        return Path(os.environ[KEY_FILE_VARIABLE])
    config_home = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(config_home) / "stedi" / "device-id.key"


def ensure_key_file(path: Path) -> bool:
    """Create the key file at ``path`` with a new random key unless it exists; whether it was
    created. The file is created with mode 0600 in one step (never written, then narrowed), and
    its folder, when made here, with 0700."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w", encoding="ascii") as key_file:
        key_file.write(secrets.token_hex(KEY_BYTES) + "\n")
    return True


def key_locator(path: Path) -> str:
    """The --device_key argument naming a key file: where the key is, never the key."""
    return f"file:{path.resolve()}"


def key_of(path: Path) -> bytes:
    """The key of the key file at ``path``, made first if there is none (DeviceKeyError if
    it is unreadable or open to others)."""
    ensure_key_file(path)
    return read_key_file(str(path))
