"""Forget one customer everywhere in the lake: landing, quarantine and every zone (GDPR art. 17).

    python -m scripts.forget --lake DIR --email E [--dry-run] [--device-key-file F]
    python -m scripts.forget --bucket B [--region R] --email E [--dry-run]        (on AWS)

The customer's landing records are removed from the landing files, every other line staying
byte for byte as it was; then all five jobs run again, and a proof counts, in every catalog
table, the rows still about the customer, which must be 0 (scripts/erasure/forgetting.py says
how, and scripts/erasure/landing_records.py which records go). An erasure record without the
email goes to ``_reports/erasures/``. An unknown email is "nothing to forget" (exit status 0);
a malformed email or a missing lake is one line and exit status 2, with nothing changed.
Interrupted half-way, a run with the same email finishes the job.
"""
from __future__ import annotations

import sys
from pathlib import Path

from glue_jobs.shared.device_key import DeviceKeyError
from scripts._cli.errors import CliError, OneLineArgumentParser, fail
from scripts.aws.errors import DeployError
from scripts.erasure import landing_records
from scripts.erasure.forgetting import Lake, forget
from scripts.erasure.local_lake import LocalLake
from scripts.lake import local_device_key, pipeline


def parse_arguments(argv: list[str]):
    parser = OneLineArgumentParser(prog="forget", description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--lake", type=Path, help="a local lake folder")
    where.add_argument("--bucket", help="the lake's bucket on AWS, as deployed")
    parser.add_argument("--email", required=True, help="the customer's email, exactly")
    parser.add_argument("--dry-run", action="store_true",
                        help="say what would be removed and change nothing")
    parser.add_argument("--database", default=pipeline.DEFAULT_DATABASE)
    parser.add_argument("--device-key-file", type=Path, default=None,
                        help=f"local lakes: the device-id key (default: "
                             f"{local_device_key.default_key_file()})")
    parser.add_argument("--region", help="AWS: default, the profile's or environment's region")
    parser.add_argument("--profile", help="AWS profile")
    parser.add_argument("--endpoint-url", help="AWS: send every call here (a moto server)")
    return parser.parse_args(argv)


def open_lake(args) -> Lake:
    if args.lake is not None:
        return LocalLake(args.lake.resolve(), args.database,
                         args.device_key_file or local_device_key.default_key_file())
    from scripts.erasure.bucket_lake import BucketLake

    return BucketLake.connect(args.bucket, args.database, args.region, args.profile,
                              args.endpoint_url)


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(sys.argv[1:] if argv is None else argv)
    try:
        email = landing_records.checked_email(args.email)
        lake = open_lake(args)
        forget(lake, email, args.dry_run)
    except (landing_records.InvalidEmailError, DeviceKeyError, CliError, DeployError) as error:
        fail(str(error))
    except OSError as error:
        fail(f"forget: {error}; run the same command again to finish")
    return 0


if __name__ == "__main__":
    sys.exit(main())
