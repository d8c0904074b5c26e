"""Generate the embedded default data set: STEDI-shaped landing JSON lines, at any scale.

    python -m scripts.generate_data --lake DIR [--scale F] [--seed N] [--files-per-source K]
                                    [--overwrite] [--dirty [--dirty-rate R]] [--fleet CLOCKS]

Scale 1 is about the size of the Udacity starter data; the same parameters give byte-identical
files. What the data holds, and the defects --dirty adds: scripts/sample_data/.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from scripts._cli.errors import OneLineArgumentParser, fail
from scripts.sample_data.defects import RECORD_DEFECTS
from scripts.sample_data.generator import (
    DEFAULT_DIRTY_RATE,
    MIN_SCALE,
    generate,
    landing_folder,
    manifest_path,
)


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = OneLineArgumentParser(prog="generate_data", description=__doc__.split("\n\n")[0])
    parser.add_argument("--lake", type=Path, required=True, help="lake root directory")
    parser.add_argument("--scale", type=float, default=1.0,
                        help=f"1 = about Udacity size (1000 customers); minimum {MIN_SCALE}")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--files-per-source", type=int, default=4)
    parser.add_argument("--overwrite", action="store_true",
                        help="replace existing landing folders (other zones are left alone)")
    parser.add_argument("--dirty", action="store_true",
                        help="add the defects of real exports and 30 shared serial numbers")
    parser.add_argument("--dirty-rate", type=float,
                        help=f"with --dirty: share of records with a defect "
                             f"(default {DEFAULT_DIRTY_RATE})")
    parser.add_argument("--fleet", type=int, default=0, metavar="CLOCKS",
                        help="devices sample on CLOCKS shared clocks, as a fleet does: each "
                             "instant is shared by about customers / CLOCKS devices (default 0: "
                             "every device on a clock of its own)")
    args = parser.parse_args(argv)
    if args.dirty_rate is not None and not args.dirty:
        parser.error("--dirty-rate needs --dirty")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    rate = DEFAULT_DIRTY_RATE if args.dirty_rate is None else args.dirty_rate
    try:
        records = generate(args.lake, args.scale, args.seed, args.files_per_source,
                           args.overwrite, args.dirty, rate, args.fleet)
    except (ValueError, OSError) as error:
        fail(f"generate_data: {error}")
    manifest = json.loads(manifest_path(args.lake).read_text(encoding="utf-8"))
    for source, count in records.items():
        files = len(list(landing_folder(args.lake, source).glob("*.json")))
        injected = (manifest["defects"] or {}).get(source, {})
        defects = sum(injected.get(kind, 0) for kind in RECORD_DEFECTS)
        suffix = f", {defects:,} record defects" if args.dirty else ""
        print(f"{source}: {count:,} rows in {files} files{suffix}")
    print(f"wrote {args.lake} (scale {args.scale:g}, seed {args.seed}"
          f"{f', dirty rate {rate:g}' if args.dirty else ''}"
          f"{f', {args.fleet} fleet clocks' if args.fleet else ''}); "
          f"see {manifest_path(args.lake)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
