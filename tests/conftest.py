"""Shared test setup: the local awsglue runtime on sys.path, and one Spark session for the run."""

from collections.abc import Iterator

import pytest
from pyspark.sql import SparkSession

from scripts.local_glue import activate
from scripts.local_glue.session import local_spark_session

# Glue scripts and runtime tests `import awsglue`; it must resolve to the local runtime, never to
# AWS's package (which needs Glue's JVM classes).
activate()


@pytest.fixture(scope="session")
def spark(tmp_path_factory) -> Iterator[SparkSession]:
    """The session the local runner uses, shared by every test so that the JVM starts once."""
    session = local_spark_session(log_file=tmp_path_factory.mktemp("spark") / "spark.log",
                                  app_name="stedi-tests", cores=2)
    yield session
    session.stop()
