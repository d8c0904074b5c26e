"""One table of Glue versions (scripts/local_glue/glue_versions.py) behind the Makefile's
environments, the requirement files and the local session; and what differs between Spark 3.5
and 4.1 giving the same answers wherever the jobs rely on it."""

from __future__ import annotations

import re
import sys

import pyspark
import pytest
from awsglue._local_versions import current_runtime
from pyspark.sql.functions import col

from glue_jobs.shared import landing_reader
from scripts.local_glue.glue_versions import DEFAULT_GLUE_VERSION, GLUE_RUNTIMES
from scripts.reference import landing_python
from tests.support import REPO_ROOT
from tests.test_landing_reader import DIRTY_EXPORT, KEYS, SCHEMA, write

pytestmark = pytest.mark.every_glue_version
MAKEFILE = (REPO_ROOT / "Makefile").read_text()


def make_variable(name: str) -> str:
    return re.search(rf"^{re.escape(name)} := (.*)$", MAKEFILE, re.MULTILINE).group(1).strip()


def requirements_file(version: str) -> str:
    default = make_variable("DEFAULT_GLUE_VERSION")
    return "requirements.txt" if version == default else f"requirements-glue-{version}.txt"


def test_the_makefile_knows_the_glue_versions_of_the_table():
    assert make_variable("GLUE_VERSIONS").split() == [r.version for r in GLUE_RUNTIMES]
    assert make_variable("DEFAULT_GLUE_VERSION") == DEFAULT_GLUE_VERSION


@pytest.mark.parametrize("runtime", GLUE_RUNTIMES, ids=lambda r: r.version)
def test_each_environment_installs_its_glue_versions_spark_and_python(runtime):
    pins = (REPO_ROOT / requirements_file(runtime.version)).read_text()
    assert f"pyspark=={runtime.spark}\n" in pins
    pythons = make_variable(f"PYTHON_FOR_{runtime.version}").split()
    assert pythons == [runtime.python, *runtime.fallback_pythons]


def test_this_environment_is_the_glue_version_its_spark_says():
    runtime = current_runtime()
    assert runtime.spark == pyspark.__version__
    python = "%d.%d" % sys.version_info[:2]
    assert python in make_variable(f"PYTHON_FOR_{runtime.version}").split()


def test_the_session_has_ansi_mode_as_this_glue_version_has_it(spark):
    assert spark.conf.get("spark.sql.ansi.enabled") == str(current_runtime().ansi).lower()


# --- what Spark 3.5 and 4.1 could answer differently -------------------------------------------

@pytest.fixture
def ansi_on(spark):
    """ANSI mode on whatever the version: what Glue 6.x runs, tried on Spark 3.5 too."""
    before = spark.conf.get("spark.sql.ansi.enabled")
    spark.conf.set("spark.sql.ansi.enabled", "true")
    yield spark
    spark.conf.set("spark.sql.ansi.enabled", before)


def test_with_ansi_on_a_wrong_typed_value_is_quarantined_not_fatal(ansi_on, tmp_path):
    """A plain cast of 'yesterday' to bigint fails the job under ANSI; the reader's try_cast
    gives null, so the record is quarantined as the reference reader says."""
    lake = tmp_path / "lake"
    write(lake / "accelerometer" / "landing", "dirty.json", DIRTY_EXPORT)
    accepted, quarantined = landing_reader.read_landing(
        ansi_on, str(lake / "accelerometer" / "landing"), SCHEMA, KEYS)
    expected = landing_python.read_source(lake, "accelerometer")
    assert sorted((r.line_number, r.object_index, r.reason) for r in quarantined.collect()) == \
        sorted((r.line_number, r.object_index, r.reason) for r in expected if r.reason)
    assert sorted(tuple(row) for row in accepted.collect()) == \
        sorted(r.values for r in expected if r.reason is None)


@pytest.mark.parametrize("ansi", ["false", "true"])
def test_size_of_no_object_gives_the_same_verdict_with_ansi_on_or_off(spark, ansi):
    """size(null) is -1 with ANSI off and null with it on: the name check must say False for
    a text that is no object either way."""
    before = spark.conf.get("spark.sql.ansi.enabled")
    spark.conf.set("spark.sql.ansi.enabled", ansi)
    try:
        verdict = spark.range(1).selectExpr(
            "cast(null as map<string,string>) as fields").selectExpr(
            landing_reader.spelled_as_in_schema("fields", SCHEMA) + " as v").first().v
    finally:
        spark.conf.set("spark.sql.ansi.enabled", before)
    assert verdict is False


def test_a_missing_map_key_is_null_with_ansi_on(ansi_on):
    """The reader looks every schema field up in the parsed object; under ANSI an absent key
    must still be null, not an error."""
    row = ansi_on.createDataFrame([({"a": "1"},)], "m map<string,string>").select(
        col("m")["b"].alias("absent")).first()
    assert row.absent is None
