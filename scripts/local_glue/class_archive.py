"""Make the class-data sharing archive that shortens every later Spark start (`make setup`).

A JVM that starts Spark loads and verifies about 20,000 classes. Java 17 can write the classes
one run loaded into an archive at exit and map it into later JVMs, which then skip that work:
the pipeline on the scale-1 benchmark data runs about 5 s faster (bench/NOTES.md). This runs
the whole pipeline once on a tiny generated lake so that the archive holds what a run needs.

The archive is written under a temporary name and renamed only after the JVM has exited
cleanly, because a JVM that maps a truncated archive crashes. It is an optimisation: when it
cannot be made (a JDK without a base archive, say), the pipeline runs as before.

Usage: python -m scripts.local_glue.class_archive [--output PATH]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from scripts.lake import pipeline
from scripts.local_glue import activate
from scripts.local_glue.session import (
    CLASS_ARCHIVE,
    find_java_home,
    local_spark_session,
    stop_and_wait,
)
from scripts.sample_data.generator import generate


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=CLASS_ARCHIVE,
                        help=f"where to write the archive (default {CLASS_ARCHIVE})")
    return parser.parse_args(argv)


def java_executable() -> str:
    """The java that local Spark sessions start (see session.find_java_home)."""
    return str(Path(find_java_home()) / "bin" / "java")


def can_write_archive(java: str, scratch: Path) -> bool:
    """Whether this JVM writes dynamic archives: one without a base archive of the JDK's own
    classes (the PyPI JDK, for one) refuses to start when asked to."""
    probe = subprocess.run([java, f"-XX:ArchiveClassesAtExit={scratch / 'probe.jsa'}",
                            "-Xlog:cds=off", "-Xlog:cds+dynamic=off", "-version"],
                           capture_output=True, check=False)
    return probe.returncode == 0


def record_classes(partial: Path, work: Path) -> None:
    """One pipeline run on a tiny lake, in a JVM that writes its classes to ``partial``."""
    from scripts.local_glue.runner import run_pipeline  # after activate(): the jobs import awsglue

    lake = work / "lake"
    generate(lake, scale=0.02, seed=1, files_per_source=2)
    spark = local_spark_session(work / "spark.log", app_name="stedi-class-archive",
                                archive_classes_to=partial)
    run_pipeline(lake, pipeline.JOBS, pipeline.job_options(), spark)
    stop_and_wait(spark)


def main(argv: list[str] | None = None,
         record: Callable[[Path, Path], None] = record_classes) -> int:
    """Write the archive that ``record(partial, work)`` makes to --output, whole or not at
    all: ``record`` writes it to ``partial``, and only a complete file is renamed into place."""
    args = parse_arguments(sys.argv[1:] if argv is None else argv)
    activate()
    output: Path = args.output
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    partial.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="stedi-class-archive-") as work:
        if not can_write_archive(java_executable(), Path(work)):
            print("no class archive: this JVM cannot write one; Spark starts without it")
            return 0
        print("recording the classes a pipeline run loads, for faster Spark starts", flush=True)
        record(partial, Path(work))
    if not partial.is_file() or partial.stat().st_size == 0:
        print("no class archive: the JVM wrote none; Spark starts without it")
        return 0
    partial.replace(output)
    print(f"class archive: {output} ({output.stat().st_size / 2**20:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
