"""Shared test setup: the local awsglue runtime on sys.path, one Spark session for the run, and
a device-id key of the run's own, so that no test touches the user's key."""

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from scripts.lake import local_device_key
from scripts.local_glue import activate
from scripts.local_glue.session import local_spark_session

# Glue scripts and runtime tests `import awsglue`; it must resolve to the local runtime, never to
# AWS's package (which needs Glue's JVM classes).
activate()

# Read by every run of the pipeline, the reference and the erasure tool that is not given a key
# file; made by the first of them. One per test process, in a folder of that process's own.
os.environ[local_device_key.KEY_FILE_VARIABLE] = str(
    Path(tempfile.mkdtemp(prefix="stedi-key-")) / "device-id.key")

from glue_jobs.shared.landing_reader import set_session_settings  # noqa: E402 - needs awsglue


@pytest.fixture(scope="session")
def spark(tmp_path_factory) -> Iterator[SparkSession]:
    """The session the local runner uses, shared by every test so that the JVM starts once."""
    session = local_spark_session(log_file=tmp_path_factory.mktemp("spark") / "spark.log",
                                  app_name="stedi-tests", cores=2)
    # What the landing jobs set where they start, for the tests that call the reader directly.
    set_session_settings(session)
    yield session
    session.stop()


@pytest.fixture(scope="module")
def moto():
    """moto's threaded server on loopback, one per test module that asks for it (reset it
    between tests: MotoServer.reset)."""
    from tests.moto_server import MotoServer

    server = MotoServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pipeline_lake(spark, tmp_path_factory):
    """A small generated lake after one default run of the whole pipeline. Read it, never write:
    tests that re-run jobs make lakes of their own."""
    from scripts.lake import pipeline
    from scripts.local_glue.runner import run_pipeline, write_report
    from scripts.sample_data.generator import generate

    lake = tmp_path_factory.mktemp("pipeline") / "lake"
    generate(lake, scale=0.05, seed=11, files_per_source=2)
    write_report(run_pipeline(lake, pipeline.JOBS, pipeline.job_options(), spark), lake, None)
    return lake
