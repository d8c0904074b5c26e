"""Download the Udacity STEDI starter landing data into a local lake.

    python -m scripts.download_udacity --lake DIR [--ref BRANCH]

The data's license forbids redistributing it, so this project does not ship it: each user fetches
it from Udacity's public repository. The folder listing comes from GitHub's contents API, so new
or renamed files are picked up; existing files are skipped.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from pathlib import Path

from scripts._cli.errors import CliError, OneLineArgumentParser, fail
from scripts.lake import pipeline

REPOSITORY = "udacity/nd027-Data-Engineering-Data-Lakes-AWS-Exercises"
STARTER_FOLDER = "project/starter"


def listing_url(source: str, ref: str) -> str:
    return (f"https://api.github.com/repos/{REPOSITORY}/contents/"
            f"{STARTER_FOLDER}/{source}/landing?ref={ref}")


def fetch(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.read()
    except (urllib.error.URLError, TimeoutError) as error:
        raise CliError(f"could not download {url}: {error}") from error


def download_source(lake: Path, source: str, ref: str) -> int:
    """Fetch one source's landing files; returns how many files were written."""
    target = lake / pipeline.table(f"{source}_landing").path
    target.mkdir(parents=True, exist_ok=True)
    entries = json.loads(fetch(listing_url(source, ref)))
    foreign = sorted({p.name for p in target.iterdir()} - {e["name"] for e in entries})
    if foreign:
        raise CliError(f"{target} already holds other landing files ({foreign[0]}, ...): "
                       "mixing them with the course data would change every count; "
                       "use another --lake")
    written = 0
    for entry in entries:
        destination = target / entry["name"]
        if entry["type"] != "file" or destination.exists():
            continue
        destination.write_bytes(fetch(entry["download_url"]))
        written += 1
        print(f"  {destination}", flush=True)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = OneLineArgumentParser(prog="download_udacity", description=__doc__.split("\n\n")[0])
    parser.add_argument("--lake", type=Path, default=Path("lake"))
    parser.add_argument("--ref", default="main", help="branch or commit of Udacity's repository")
    args = parser.parse_args(argv)
    try:
        for source in pipeline.SOURCES:
            download_source(args.lake, source, args.ref)
    except CliError as error:
        fail(str(error))
    print(f"Udacity starter data in {args.lake}; run: "
          f"python -m scripts.run_local --lake {args.lake}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
