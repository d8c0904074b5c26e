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


@pytest.fixture(scope="session")
def pipeline_lake(spark, tmp_path_factory):
    """A small generated lake after one default run of the whole pipeline. Read it, never write:
    tests that re-run jobs make lakes of their own."""
    from scripts import pipeline
    from scripts.generate_data import generate
    from scripts.run_local import run_pipeline, write_report

    lake = tmp_path_factory.mktemp("pipeline") / "lake"
    generate(lake, scale=0.05, seed=11, files_per_source=2)
    options = {"database": "stedi", "consent_mode": "registered", "ml_match": "device"}
    write_report(run_pipeline(lake, pipeline.JOBS, options, spark), lake, None)
    return lake
