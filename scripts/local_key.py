"""The local home of the device-id key: a file outside the lake, readable by its owner only.

The machine_learning_curated job names each step trainer by HMAC-SHA256(key, serialNumber);
the erasure tool keys its records' hashes with the same key. Whoever holds the key can
recompute the id of a known serial number, so it lives apart from the data: by default in the
user's configuration folder (``$XDG_CONFIG_HOME/stedi/device-id.key``), never under a lake,
and ``STEDI_DEVICE_KEY_FILE`` or ``--device-key-file`` may put it elsewhere. On AWS it is an SSM
SecureString made by deploy (scripts/aws/ssm.py).

The first run makes the key; every later run reads the same one, so a device keeps its id.
Losing the file means new ids on the next run, nothing worse.

    python -m scripts.local_key [--file PATH]

makes the key file if there is none and prints the --device_key value that names it,
``file:<path>``, for running a script by itself (``python -m scripts.glue_submit``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from glue_jobs.shared.device_key import DeviceKeyError
from scripts._cli.errors import OneLineArgumentParser, fail
from scripts.lake.local_device_key import default_key_file, key_locator, key_of


def main(argv: list[str] | None = None) -> int:
    parser = OneLineArgumentParser(prog="local_key", description="Make the local device-id key "
                                   "if there is none and print the --device_key value naming it.")
    parser.add_argument("--file", type=Path, default=None,
                        help=f"the key file (default: {default_key_file()})")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    path = args.file or default_key_file()
    try:
        key_of(path)
    except DeviceKeyError as error:
        fail(str(error))
    except OSError as error:
        fail(f"cannot make the device-id key {path}: {error}; pass --file with a writable place")
    print(key_locator(path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
