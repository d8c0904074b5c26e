"""The one local Spark session, configured like a small driver of the Glue version whose Spark
is installed (scripts/local_glue/glue_versions.py).

Every Glue version from 5.0 runs Java 17. Locally Spark runs on the machine's Java where it
fits the Glue version, else on the OpenJDK that ``make setup`` unpacked into .jre/
(scripts/local_glue/java_runtime.py).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pyspark.sql import SparkSession

from scripts.local_glue import activate

# JavaNotFoundError is re-exported: the runner catches it where it starts the session.
from scripts.local_glue.java_runtime import JavaNotFoundError, select_java  # noqa: F401

LOG4J_CONFIG = Path(__file__).resolve().parent / "log4j2.properties"
# Class-data sharing archive of the classes a pipeline run loads, made by `make setup`
# (python -m scripts.local_glue.class_archive) inside the environment whose Spark jars it holds.
CLASS_ARCHIVE = Path(sys.prefix) / "share" / "stedi" / "spark-classes.jsa"
# Below this much landing data a run is short: compiling hot code to the fastest machine code
# (the JIT's second tier) costs more than it saves. Measured on the benchmark data: scale 1
# (12 MB) gains 6 s without it, scale 10 (113 MB) loses 12 s.
SHORT_RUN_BYTES = 32 * 1024 * 1024


def find_java_home() -> str:
    """JAVA_HOME for the Spark of the installed Glue version (java_runtime.select_java);
    JavaNotFoundError, one line naming the fix, where there is none."""
    from awsglue._local_versions import current_runtime

    activate()
    return str(select_java(current_runtime()).home)


def java_options(log_file: Path, short_run: bool, archive_classes_to: Path | None) -> str:
    """The driver JVM's options: logging to ``log_file``, a throughput garbage collector (batch
    work, no pause-time goals), the class archive when there is one, and JIT tiers to suit the
    length of the run. Each choice was measured: bench/NOTES.md."""
    options = [f"-Dlog4j2.configurationFile=file:{LOG4J_CONFIG}",
               f"-Dstedi.spark.log={log_file}", "-XX:+UseParallelGC"]
    if short_run:
        options.append("-XX:TieredStopAtLevel=1")
    else:
        # The second tier only for really hot code: on two cores its compiler thread takes
        # CPU from the two task threads for most of a run otherwise.
        options += ["-XX:Tier4InvocationThreshold=50000", "-XX:Tier4CompileThreshold=60000",
                    "-XX:Tier4BackEdgeThreshold=400000"]
    if archive_classes_to:
        options.append(f"-XX:ArchiveClassesAtExit={archive_classes_to}")
    elif CLASS_ARCHIVE.is_file():
        options.append(f"-XX:SharedArchiveFile={CLASS_ARCHIVE}")
    # Quiet about classes left out of an archive, and about an archive made by another JDK or
    # Spark, which the JVM then ignores.
    options += ["-Xlog:cds=off", "-Xlog:cds+dynamic=off"]
    return " ".join(options)


@contextmanager
def jvm_stderr_to(log_file: Path) -> Iterator[None]:
    """Start the JVM with its standard error appended to ``log_file``.

    The JVM inherits this process's file descriptor 2 when it starts, and keeps it: what it
    prints there outside log4j (Spark 4's "WARNING: Using incubator modules", a crash report)
    then lands in Spark's log instead of breaking the one-line errors on the terminal. This
    process's own standard error is restored at once.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with log_file.open("ab") as log:
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def local_spark_session(log_file: Path, app_name: str = "stedi-local-glue",
                        cores: int | str = "*", shuffle_partitions: int = 4,
                        short_run: bool = False,
                        archive_classes_to: Path | None = None) -> SparkSession:
    """A local SparkSession sized for one machine; Spark's own log goes to ``log_file``.

    Few shuffle partitions: the default of 200 makes small local joins pay for 200 tiny tasks.
    Adaptive execution is on, as on Glue. ``short_run``: see SHORT_RUN_BYTES.
    ``archive_classes_to``: write a class archive there when the JVM exits.
    """
    activate()
    from awsglue._local_versions import current_runtime

    # Always set: Spark's launcher prefers JAVA_HOME to PATH, and either may be a Java that
    # this Spark cannot run on.
    os.environ["JAVA_HOME"] = find_java_home()
    # Python workers run on this interpreter. Spark 4 otherwise starts the system's python3 when
    # a virtual environment's python runs without being activated: PYTHON_VERSION_MISMATCH.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    log_file.parent.mkdir(parents=True, exist_ok=True)
    runtime = current_runtime()
    builder = (SparkSession.builder
            .master(f"local[{cores}]")
            .appName(app_name)
            .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
            .config("spark.sql.adaptive.enabled", "true")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.session.timeZone", "UTC")
            # Stated, not inherited: on in Glue 6.x (Spark 4's default), off in Glue 5.x.
            .config("spark.sql.ansi.enabled", str(runtime.ansi).lower())
            # Local mode runs everything in the driver; Spark's 1 GB default is tight for the
            # cached landing records at scale 100, and 2 GB keeps the process under 3 GB.
            .config("spark.driver.memory", os.environ.get("STEDI_DRIVER_MEMORY", "2g"))
            .config("spark.driver.extraJavaOptions",
                    java_options(log_file, short_run, archive_classes_to)))
    with jvm_stderr_to(log_file):
        return builder.getOrCreate()


def stop_and_wait(spark: SparkSession, timeout: float = 300) -> None:
    """Stop the session and wait until its JVM has exited (it writes a class archive on the
    way out)."""
    from pyspark import SparkContext

    gateway = SparkContext._gateway
    spark.stop()
    if gateway is not None:
        gateway.shutdown()
        gateway.proc.stdin.close()  # the JVM exits when its stdin closes
        gateway.proc.wait(timeout=timeout)
