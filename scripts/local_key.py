"""Make the local device-id key if there is none, and print the --device_key value naming it.

    python -m scripts.local_key [--file PATH]

prints ``file:<path>``, for running a script by itself (``python -m scripts.glue_submit``). The
key names the step trainers of machine_learning_curated pseudonymously; where it lives and why it
stays apart from the data: scripts/lake/local_device_key.py and docs/privacy.md.
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
